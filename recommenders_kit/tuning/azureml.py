"""The local sweep's search space and objective as an Azure ML sweep job.

:func:`sweep_job` builds a sweep job whose trial runs :mod:`recommenders_kit.tuning.trial`
(the objective a local sweep calls) with one ``--param name=${{search_space.name}}`` per
dimension, over the space translated by each dimension's ``to_azure()``: one search-space
definition serves both. Azure ML reads the primary metric from the MLflow metrics each trial
logs. Nothing is sent: submit with ``ml_client.jobs.create_or_update(job)``.

Example::

    from recommenders_kit.deploy.azureml import code_folder
    job = sweep_job("als", compute="cpu-cluster", code=code_folder("build/code"),
                    environment=sweep_environment("als"))
    ml_client.jobs.create_or_update(job)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recommenders_kit._validate import require_choice, require_positive_int
from recommenders_kit.errors import InputError, MissingResourceError
from recommenders_kit.models import RECOMMENDERS
from recommenders_kit.tuning.objectives import LightGBMObjective, RecommenderObjective
from recommenders_kit.tuning.space import SPACES, Dimension, Uniform

#: kind -> (objective, the trial's extras, its conda packages)
KINDS: dict[
    str,
    tuple[type[RecommenderObjective] | type[LightGBMObjective], tuple[str, ...], tuple[str, ...]],
] = {
    **dict.fromkeys(RECOMMENDERS, (RecommenderObjective, ("spark", "tuning"), ("openjdk=17",))),
    "lightgbm": (LightGBMObjective, ("lightgbm", "tuning"), ()),
}
SAMPLING = ("random", "bayesian", "grid")
EARLY_TERMINATION = ("bandit", "median", "truncation")  # or None


def sweep_environment(kind: str, name: str | None = None) -> Any:
    """The trial environment: the extras the objective needs (and Java for Spark)."""
    from recommenders_kit.deploy.azureml import environment_entity

    require_choice(kind, tuple(KINDS), "kind")
    _, extras, conda_packages = KINDS[kind]
    return environment_entity(
        name or f"recommenders-kit-sweep-{kind}",
        extras=extras,
        conda_packages=conda_packages,
        pip_packages=("azureml-mlflow",),  # MLflow's azureml:// tracking in the trials
        description=f"recommenders_kit {kind} sweep trials",
    )


def sweep_job(
    kind: str,
    *,
    compute: str,
    code: str | Path,
    environment: Any,
    space: dict[str, Dimension] | None = None,
    data_args: dict[str, Any] | None = None,
    sampling: str = "random",
    early_termination: str | None = "bandit",
    max_total_trials: int = 30,
    max_concurrent_trials: int = 4,
    timeout_s: int = 4 * 3600,
    trial_timeout_s: int | None = None,
    experiment_name: str = "recommenders-kit-sweep",
) -> Any:
    """An Azure ML ``SweepJob`` over ``space`` (default: the kind's space) for ``kind``.

    Args:
        kind: ``"als"``, ``"ease"``, ``"popularity"`` (MovieLens on Spark, nDCG@10) or
            ``"lightgbm"`` (Criteo, AUC).
        compute: the compute cluster's name.
        code: a folder holding the package (:func:`recommenders_kit.deploy.azureml.code_folder`).
        environment: an Environment entity (:func:`sweep_environment`) or a reference.
        space: dimensions over the kind's parameter names (narrower or wider bounds).
        data_args: the trial command's data options, e.g. ``{"size": "1m"}`` or
            ``{"data": "generated", "rows": 1000000}``.
        sampling: ``random``, ``bayesian`` (no early termination) or ``grid`` (choices only).
        early_termination: ``bandit``, ``median``, ``truncation`` or None.
    """
    from azure.ai.ml.entities import CommandJob
    from azure.ai.ml.sweep import Objective, SweepJob, SweepJobLimits

    space = _checked_space(kind, space, sampling, early_termination)
    require_positive_int(max_total_trials, "max_total_trials")
    require_positive_int(max_concurrent_trials, "max_concurrent_trials")
    if not (Path(code) / "recommenders_kit").is_dir():
        raise MissingResourceError(
            f"{code} holds no recommenders_kit package: build it with "
            "recommenders_kit.deploy.azureml.code_folder(folder)"
        )
    objective = KINDS[kind][0]
    return SweepJob(
        trial=CommandJob(
            code=str(Path(code).resolve()),
            command=_trial_command(kind, space, data_args),
            environment=environment,
        ),
        search_space={name: dim.to_azure() for name, dim in space.items()},
        objective=Objective(goal=objective.direction, primary_metric=objective.metric),
        sampling_algorithm=sampling,
        limits=SweepJobLimits(
            max_total_trials=max_total_trials,
            max_concurrent_trials=max_concurrent_trials,
            timeout=timeout_s,
            trial_timeout=trial_timeout_s,
        ),
        early_termination=_policy(early_termination),
        compute=compute,
        experiment_name=experiment_name,
        display_name=f"{kind}-sweep",
    )


def _checked_space(
    kind: str,
    space: dict[str, Dimension] | None,
    sampling: str,
    early_termination: str | None,
) -> dict[str, Dimension]:
    """The sweep's space (the kind's by default), after the checks Azure ML would fail on."""
    require_choice(kind, tuple(KINDS), "kind")
    require_choice(sampling, SAMPLING, "sampling")
    if early_termination is not None:
        require_choice(early_termination, EARLY_TERMINATION, "early_termination")
    if sampling == "bayesian" and early_termination is not None:
        raise InputError(
            "Azure ML's bayesian sampling takes no early termination policy: "
            "pass early_termination=None or sampling='random'"
        )
    space = space or SPACES[kind]
    unknown = sorted(set(space) - set(SPACES[kind]))
    if unknown:
        raise InputError(
            f"space: {unknown} are not {kind} parameters; known: {sorted(SPACES[kind])}"
        )
    if sampling == "grid" and any(isinstance(d, Uniform) for d in space.values()):
        raise InputError("grid sampling needs discrete dimensions (Choice, IntUniform)")
    return space


def _trial_command(kind: str, space: dict[str, Dimension], data_args: dict[str, Any] | None) -> str:
    """The trial's command line: the data options and one ``--param`` per dimension."""
    words = ["python -m recommenders_kit.tuning.trial", kind]
    words += [f"--{k} {v}" for k, v in (data_args or {}).items()]
    words += [f"--param {name}=${{{{search_space.{name}}}}}" for name in space]
    return " ".join(words)


def _policy(early_termination: str | None) -> Any:
    """Azure ML's early termination policy of that name (each after 5 trials, every trial)."""
    from azure.ai.ml.sweep import BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy

    if early_termination == "bandit":
        return BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)
    if early_termination == "median":
        return MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5)
    if early_termination == "truncation":
        return TruncationSelectionPolicy(
            truncation_percentage=20, evaluation_interval=1, delay_evaluation=5
        )
    return None
