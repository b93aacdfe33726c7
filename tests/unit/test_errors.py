"""One error family: every error class of the package is a ``RecommendersKitError`` that keeps
its built-in base, and the package raises no bare built-in error."""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
from pathlib import Path

import recommenders_kit
from recommenders_kit import errors

PACKAGE = Path(recommenders_kit.__file__).parent
#: Built-in exceptions the package may raise as they are, and why.
ALLOWED = {"KeyboardInterrupt": "a stop signal turned into Python's own interrupt"}


def _modules():
    for info in pkgutil.walk_packages([str(PACKAGE)], "recommenders_kit."):
        yield importlib.import_module(info.name)


def test_every_error_class_is_in_the_family():
    classes = {
        cls
        for module in _modules()
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__.startswith("recommenders_kit")
    }
    assert errors.InputError in classes
    outside = [
        cls.__qualname__ for cls in classes if not issubclass(cls, errors.RecommendersKitError)
    ]
    assert not outside
    for cls in classes - {errors.RecommendersKitError}:
        kept = [b for b in cls.__mro__ if b.__module__ == "builtins"]
        assert kept[0] not in (Exception, BaseException, object), cls  # ValueError, OSError...


def test_no_bare_builtin_error_is_raised():
    raised = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = getattr(node.exc.func, "id", None)
                if isinstance(getattr(builtins, name or "", None), type) and name not in ALLOWED:
                    raised.append(f"{path.relative_to(PACKAGE)}:{node.lineno} raise {name}")
    assert not raised
