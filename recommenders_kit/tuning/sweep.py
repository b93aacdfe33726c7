"""Run a hyperparameter sweep with Optuna and track every trial in MLflow.

:func:`run_sweep` draws parameters from a search space (:mod:`~recommenders_kit.tuning.space`)
with a seeded TPE sampler, calls the objective (:mod:`~recommenders_kit.tuning.objectives`),
prunes trials whose intermediate values fall below the median of earlier trials, and stops at
the trial budget or the time budget, whichever comes first.

Tracking: one MLflow run for the sweep (settings, best value and parameters, the best trial's
model as an artefact) with one child run per trial (parameters, metrics, intermediate
values as a metric history, state ``COMPLETE`` / ``PRUNED``, and the caller's tags, e.g. the
dataset and split). The tracking URI is the argument, else ``$MLFLOW_TRACKING_URI``, else
``sqlite:///mlflow.db`` in the working directory; an Azure ML workspace's MLflow URI works
the same (``ml_client.workspaces.get(name).mlflow_tracking_uri``).

Trials run one at a time by default. ``n_jobs > 1`` runs trials in parallel threads: right for
LightGBM on pandas (its training releases the GIL and the threads share one copy of the
data); not for Spark, where each trial is already spread over the cluster.

Example::

    objective = ALSObjective(train)
    result = run_sweep(objective, ALS_SPACE, n_trials=30, timeout=1800,
                       tags={"dataset": "movielens-100k"})
    result.best_params
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recommenders_kit._progress import quiet_logger, quiet_third_party_bars
from recommenders_kit._validate import require_positive_int
from recommenders_kit.constants import DEFAULT_SEED
from recommenders_kit.deploy.mlflow import require_reachable
from recommenders_kit.errors import InputError, JobFailedError
from recommenders_kit.settings import MLFLOW_TRACKING_URI_ENV, env_value
from recommenders_kit.tuning.space import Dimension, sample


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, else an SQLite store ``mlflow.db`` in the working directory."""
    return env_value(MLFLOW_TRACKING_URI_ENV) or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def artifact_location(tracking_uri: str, experiment: str) -> str | None:
    """Where a new experiment's artefacts go: beside an SQLite store's file
    (``<its folder>/mlartifacts/<experiment>``), not in whatever directory the sweep runs
    from (MLflow's default, ``./mlruns``); None (the server's choice) for other stores.

    >>> artifact_location("sqlite:////data/mlflow.db", "als")
    'file:///data/mlartifacts/als'
    """
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    database = Path(tracking_uri[len(prefix) :]).absolute()
    return (database.parent / "mlartifacts" / experiment).as_uri()


def open_experiment(tracking_uri: str, experiment: str) -> str:
    """The id of ``experiment`` in the store at ``tracking_uri``; a new experiment is created
    with its artefacts where :func:`artifact_location` says.

    Logging with MLflow's fluent API into ``mlflow.set_experiment(experiment_id=...)`` of this
    id keeps an SQLite store's models beside it (its ``Default`` experiment's are in
    ``./mlruns``).

    Raises:
        StoreUnavailableError: an ``http(s)`` tracking server that does not answer (at once,
            not after MLflow's minutes of retries).
    """
    require_reachable(tracking_uri)  # before MLflow loads (seconds)
    from mlflow.tracking import MlflowClient

    # a new SQLite store announces each schema step at INFO: not news to a user
    with quiet_logger("mlflow.store.db.utils"):
        client = MlflowClient(tracking_uri)
        found = client.get_experiment_by_name(experiment)  # the store opens by here
    if found is not None:
        return str(found.experiment_id)
    return str(
        client.create_experiment(
            experiment, artifact_location=artifact_location(tracking_uri, experiment)
        )
    )


@dataclass(frozen=True)
class SweepResult:
    """The finished sweep.

    ``best_params`` / ``best_value`` / ``best_metrics`` / ``best_model``: the best complete
    trial; ``trials``: one row per trial (number, state, value, seconds, parameters);
    ``run_id``: the sweep's MLflow run at ``tracking_uri``; ``study``: the Optuna study.
    """

    best_params: dict[str, Any]
    best_value: float
    best_metrics: dict[str, float]
    best_model: Any
    trials: pd.DataFrame
    run_id: str
    tracking_uri: str
    study: Any
    seed: int = DEFAULT_SEED

    def top(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` best complete trials, best first."""
        done = self.trials[self.trials.state == "COMPLETE"]
        ascending = self.study.direction.name == "MINIMIZE"
        return done.sort_values("value", ascending=ascending).head(n).reset_index(drop=True)

    def log_best_model(
        self, registered_model_name: str | None = None, name: str = "best_model"
    ) -> Any:
        """Log the best trial's model as an MLflow model in the sweep's run
        (:func:`recommenders_kit.deploy.mlflow.log_model`) and, given a name, register it
        there with the alias ``champion``; returns MLflow's ``ModelInfo``
        (``mlflow.search_logged_models`` finds it by the run)."""
        import mlflow

        from recommenders_kit.deploy.mlflow import DEFAULT_ALIAS, log_model

        before = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(self.tracking_uri)
        try:
            with mlflow.start_run(run_id=self.run_id):
                info = log_model(
                    self.best_model,
                    name,
                    registered_model_name=registered_model_name,
                    alias=DEFAULT_ALIAS,
                )
        finally:
            mlflow.set_tracking_uri(before)
        return info

    def param_importance(self) -> pd.Series:
        """How much of the metric's variance over the complete trials each parameter explains
        (fANOVA on a random forest, seeded; sums to 1), largest first. Needs 2+ trials."""
        import optuna

        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=self.seed)
        importance = optuna.importance.get_param_importances(self.study, evaluator=evaluator)
        return pd.Series(importance, name="importance").sort_values(ascending=False)


def _trials_table(study: Any) -> pd.DataFrame:
    """One row per trial of ``study``: number, state, value, seconds, parameters."""
    rows = []
    for t in study.trials:
        done = t.datetime_complete and t.datetime_start
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() if done else None
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name,
                "value": t.value,
                "seconds": seconds,
                **t.params,
            }
        )
    return pd.DataFrame(rows)


@dataclass
class _Best:
    """The best trial so far (shared by the trial threads, under ``lock``)."""

    value: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    model: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    run: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, result: Any, params: dict[str, Any], run: str, direction: str) -> None:
        with self.lock:
            if self.value is None or (
                result.value > self.value if direction == "maximize" else result.value < self.value
            ):
                self.value, self.metrics, self.model = result.value, result.metrics, result.model
                self.params, self.run = params, run


class _Tracker:
    """MLflow runs through the client API (thread-safe: no global active-run state)."""

    def __init__(self, tracking_uri: str, experiment: str):
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri)
        self.experiment_id = open_experiment(tracking_uri, experiment)

    def start(self, name: str, tags: dict[str, str], parent: str | None = None) -> str:
        tags = {**tags, "mlflow.runName": name}
        if parent:
            tags["mlflow.parentRunId"] = parent
        return self.client.create_run(self.experiment_id, tags=tags).info.run_id

    def log(
        self,
        run_id: str,
        params: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, Any] | None = None,
        step: int = 0,
    ) -> None:
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, step) for k, v in (metrics or {}).items()],
            params=[Param(k, str(v)) for k, v in (params or {}).items()],
            tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
        )

    def end(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status)


def run_sweep(
    objective: Any,
    space: dict[str, Dimension],
    *,
    n_trials: int = 20,
    timeout: float | None = None,
    seed: int = DEFAULT_SEED,
    experiment: str = "recommenders_kit",
    tracking_uri: str | None = None,
    tags: dict[str, str] | None = None,
    n_jobs: int = 1,
    prune: bool = True,
    storage: str | None = None,
    study_name: str | None = None,
    progress: bool = True,
) -> SweepResult:
    """Optimize ``objective`` over ``space``; see the module docstring.

    Args:
        objective: a callable ``(params, report) -> TrialResult`` with ``metric`` and
            ``direction`` attributes (see :mod:`recommenders_kit.tuning.objectives`).
        n_trials, timeout: the trial budget and the time budget in seconds (None: no limit).
        seed: seeds the sampler (with ``n_jobs=1`` the sweep is repeatable).
        tags: MLflow tags for every run (dataset, split, ...).
        prune: stop unpromising trials early (median pruning on intermediate values).
        storage, study_name: an Optuna storage URL (e.g. ``sqlite:///optuna.db``) to keep or
            resume the study; in memory by default.
    """
    quiet_third_party_bars()
    import optuna

    _check_budget(space, n_trials, n_jobs, timeout)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tracking_uri = tracking_uri or default_tracking_uri()
    tracker = _Tracker(tracking_uri, experiment)
    tags = {k: str(v) for k, v in (tags or {}).items()}
    study = _create_study(objective.direction, seed, prune, storage, study_name)
    parent = tracker.start(f"sweep-{type(objective).__name__}", tags)
    tracker.log(
        parent,
        params={
            "n_trials": n_trials,
            "timeout": timeout,
            "seed": seed,
            "sampler": "TPE",
            "pruner": "median" if prune else "none",
            "metric": objective.metric,
            "n_jobs": n_jobs,
            "objective": type(objective).__name__,
        },
    )
    best = _Best()
    trial_fn = _TrialRunner(objective, space, tracker, parent, tags, prune, best)
    try:
        study.optimize(
            trial_fn, n_trials=n_trials, timeout=timeout, n_jobs=n_jobs, show_progress_bar=progress
        )
    except BaseException:
        tracker.end(parent, "FAILED")
        raise
    _finish(tracker, parent, objective.metric, best)
    return SweepResult(
        best.params,
        float(best.value or 0.0),  # _finish raised if no trial completed
        best.metrics,
        best.model,
        _trials_table(study),
        parent,
        tracking_uri,
        study,
        seed,
    )


def _check_budget(
    space: dict[str, Dimension], n_trials: int, n_jobs: int, timeout: float | None
) -> None:
    require_positive_int(n_trials, "n_trials")
    require_positive_int(n_jobs, "n_jobs")
    if timeout is not None and not timeout > 0:
        raise InputError(f"timeout must be > 0 seconds or None, got {timeout}")
    if not space:
        raise InputError("space must name at least one parameter")


def _create_study(
    direction: Any, seed: int, prune: bool, storage: str | None, study_name: str | None
) -> Any:
    import optuna

    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=5) if prune else optuna.pruners.NopPruner()
    )
    return optuna.create_study(
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=pruner,
        storage=storage,
        study_name=study_name,
        load_if_exists=storage is not None,
    )


class _TrialRunner:
    """One Optuna trial: sample, track a child run, report for pruning, keep the best."""

    def __init__(self, objective, space, tracker, parent, tags, prune, best):
        self.objective, self.space, self.tracker, self.parent = objective, space, tracker, parent
        self.tags, self.prune, self.best = tags, prune, best

    def __call__(self, trial: Any) -> float:
        import optuna

        params = sample(self.space, trial)
        tracker, metric = self.tracker, self.objective.metric
        run = tracker.start(
            f"trial-{trial.number}", {**self.tags, "trial": str(trial.number)}, self.parent
        )
        tracker.log(run, params=params)

        def report(value: float, step: int) -> None:
            tracker.log(run, metrics={f"{metric}_intermediate": value}, step=step)
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"{metric} {value:.4f} at step {step}")

        try:
            result = self.objective(params, report if self.prune else None)
        except optuna.TrialPruned:
            tracker.log(run, tags={"state": "PRUNED"})
            tracker.end(run, "KILLED")
            raise
        except BaseException:
            tracker.log(run, tags={"state": "FAIL"})
            tracker.end(run, "FAILED")
            raise
        tracker.log(run, metrics=result.metrics, tags={"state": "COMPLETE"})
        tracker.end(run)
        self.best.offer(result, params, run, self.objective.direction)
        return result.value


def _finish(tracker: _Tracker, parent: str, metric: str, best: _Best) -> None:
    """Log the best trial (its model as an artefact) to the sweep's run and close it."""
    if best.value is None:
        tracker.end(parent, "FAILED")
        raise JobFailedError("no trial completed within the budget: raise n_trials or timeout")
    _log_model(tracker, best.run, parent, best.model)
    tracker.log(
        parent,
        metrics={f"best_{metric}": best.value},
        params={f"best_{k}": v for k, v in best.params.items()},
        tags={"best_trial_run": best.run},
    )
    tracker.end(parent)


def _log_model(tracker: _Tracker, trial_run: str, parent: str, model: Any) -> None:
    """Save the best trial's model with its own ``save`` and attach it to both runs."""
    if model is None or not hasattr(model, "save"):
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = model.save(Path(tmp) / "model")
        for run in (trial_run, parent):
            tracker.client.log_artifacts(run, str(folder), artifact_path="model")
