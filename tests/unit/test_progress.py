"""The library's progress bars: text outside a Jupyter kernel and in a kernel without
ipywidgets (without tqdm's "IProgress not found" warning), widgets where they can show."""

from __future__ import annotations

import importlib.util
import io
import sys
import types
import warnings

import pytest
from tqdm.std import tqdm as text_bar

from recommenders_kit._progress import progress_bar, widgets_available


def ipython(monkeypatch, config: dict) -> None:
    """Make this process look like an IPython shell with ``config`` (a Jupyter kernel's has
    ``IPKernelApp``)."""
    shell = types.SimpleNamespace(config=config)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def kernel(monkeypatch, with_widgets: bool) -> None:
    """Make this process look like a Jupyter kernel, with or without ipywidgets."""
    ipython(monkeypatch, {"IPKernelApp": {}})
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: (
            (object() if with_widgets else None) if name == "ipywidgets" else find_spec(name, *a)
        ),
    )


def test_text_bar_counts_and_clears_itself():
    out = io.StringIO()
    with progress_bar(4, "steps", "step", file=out, mininterval=0) as bar:
        assert isinstance(bar, text_bar)
        bar.update(3)
        assert "steps:  75%" in out.getvalue()
        assert "3/4 [" in out.getvalue()
    assert bar.n == 3
    assert out.getvalue().endswith("\r")  # leave=False: the line is cleared on close


def test_disabled_bar_writes_nothing():
    out = io.StringIO()
    with progress_bar(4, "steps", "step", enabled=False, file=out) as bar:
        bar.update(4)
    assert out.getvalue() == ""


def test_outside_a_kernel_no_widgets():
    assert not widgets_available()


def test_kernel_without_ipywidgets_gets_a_text_bar_and_no_warning(monkeypatch):
    kernel(monkeypatch, with_widgets=False)
    assert not widgets_available()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with progress_bar(2, "steps", "step", file=io.StringIO()) as bar:
            bar.update(2)
    assert isinstance(bar, text_bar)


def test_kernel_with_ipywidgets_chooses_widgets(monkeypatch):
    kernel(monkeypatch, with_widgets=True)
    assert widgets_available()


@pytest.mark.parametrize("config", [{}, {"TerminalIPythonApp": {}}])
def test_ipython_in_a_terminal_is_not_a_kernel(monkeypatch, config):
    ipython(monkeypatch, config)
    assert not widgets_available()
