"""The twin rule: an engine twin lives in a sibling module named after its engine (``pandas``
/ ``spark``), with the same public names and the same signatures.

Every pair of twin modules is listed here; the test fails when one side gains a public name
the other lacks, or a parameter (name, kind or default) that differs. Constructors are the
one allowance: they start with the same keywords in the same order (defaults may differ, as
documented by the class) and may end with keywords only one engine has.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

TWINS = [
    "recommenders_kit.split",
    "recommenders_kit.evaluation",
    "recommenders_kit.evaluation.{engine}.ranking",
    "recommenders_kit.evaluation.{engine}.rating",
    "recommenders_kit.evaluation.{engine}.classification",
    "recommenders_kit.evaluation.{engine}.beyond",
    "recommenders_kit.evaluation.{engine}.evaluate",
    "recommenders_kit.models.als",
    "recommenders_kit.models.ease",
    "recommenders_kit.models.lightgbm",
    "recommenders_kit.models.popularity",
]


def _module(template: str, engine: str):
    name = template.format(engine=engine) if "{engine}" in template else f"{template}.{engine}"
    return importlib.import_module(name)


def _parameters(obj) -> list[tuple]:
    """Name, kind and default of each parameter (annotations differ by engine, by design)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(obj).parameters.values()]


def _public_members(cls) -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") or name == "__init__"
    }


@pytest.mark.parametrize("template", TWINS)
def test_twins_have_the_same_names_and_signatures(template):
    pandas_side, spark_side = _module(template, "pandas"), _module(template, "spark")
    assert sorted(pandas_side.__all__) == sorted(spark_side.__all__)
    for name in pandas_side.__all__:
        left, right = getattr(pandas_side, name), getattr(spark_side, name)
        assert inspect.isclass(left) == inspect.isclass(right), name
        if not callable(left):
            assert type(left) is type(right), name
            continue
        if not inspect.isclass(left):
            assert _parameters(left) == _parameters(right), name
            continue
        left_members, right_members = _public_members(left), _public_members(right)
        assert sorted(left_members) == sorted(right_members), name
        for member, value in left_members.items():
            if member == "__init__":
                _check_constructors(name, value, right_members[member])
            elif callable(value) and not isinstance(value, type):
                assert _parameters(value) == _parameters(right_members[member]), (name, member)


def _check_constructors(name: str, left, right) -> None:
    left_names = [p[0] for p in _parameters(left)]
    right_names = [p[0] for p in _parameters(right)]
    shared = [n for n in left_names if n in right_names]
    assert left_names[: len(shared)] == right_names[: len(shared)] == shared, name


@pytest.mark.parametrize("template", TWINS)
def test_every_public_name_is_documented(template):
    for engine in ("pandas", "spark"):
        module = _module(template, engine)
        assert module.__doc__, module.__name__
        for name in module.__all__:
            value = getattr(module, name)
            if callable(value):
                assert value.__doc__, f"{module.__name__}.{name}"


MODEL_TWINS = [
    ("recommenders_kit.models.als", "ALSRecommender", "RECOMMENDER_STATE"),
    ("recommenders_kit.models.lightgbm", "LightGBMClickModel", "CLICK_MODEL_STATE"),
    ("recommenders_kit.models.lightgbm", "FeatureEncoder", None),
]


@pytest.mark.parametrize(("package", "name", "state"), MODEL_TWINS)
def test_twins_are_equal_in_state(package, name, state):
    """The same public attributes on both engines (the constructor keywords they share, the
    fitted state under the names the protocol documents), and no state of only one engine."""
    from recommenders_kit.models import base

    pandas_model = getattr(_module(package, "pandas"), name)()
    spark_model = getattr(_module(package, "spark"), name)()
    one_engine = set(spark_model.get_params()) ^ set(pandas_model.get_params())
    pandas_state = {k for k in vars(pandas_model) if not k.startswith("_")} - one_engine
    spark_state = {k for k in vars(spark_model) if not k.startswith("_")} - one_engine
    assert pandas_state == spark_state
    if state:
        assert set(getattr(base, state)) <= pandas_state
