"""Local sweeps: Optuna drives real objectives, every trial lands in a real MLflow store."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import roc_auc_score

from recommenders_kit.tuning.objectives import TrialResult
from recommenders_kit.tuning.space import LIGHTGBM_SPACE, IntUniform, Uniform
from recommenders_kit.tuning.sweep import run_sweep


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    """One SQLite tracking store for the module; each test uses its own experiment."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def _runs(tracking, experiment):
    client = MlflowClient(tracking)
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return client, parents, children


class Parabola:
    """A cheap objective with a known optimum at x = 0.3; reports once before finishing."""

    metric, direction = "score", "maximize"

    def __init__(self, sleep: float = 0.0):
        self.sleep, self.finished, self.spans = sleep, [], []
        self.lock = threading.Lock()

    def __call__(self, params, report=None):
        start = time.monotonic()
        value = -((params["x"] - 0.3) ** 2)
        if report is not None:
            report(value, 1)
        time.sleep(self.sleep)
        with self.lock:
            self.finished.append(params["x"])
            self.spans.append((start, time.monotonic()))
        return TrialResult(value, {"score": value, "x_seen": params["x"]})


SPACE = {"x": Uniform(0.0, 1.0), "n": IntUniform(1, 4)}


def test_lightgbm_sweep_tracks_every_trial_and_keeps_the_best_model(tracking, tmp_path):
    from recommenders_kit.datasets.criteo_synthetic import generate
    from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel
    from recommenders_kit.tuning.objectives import LightGBMObjective

    frame, _ = generate(4000, seed=5)
    objective = LightGBMObjective(frame, num_boost_round=40, early_stopping_rounds=10)
    assert objective.fit_part.index.max() < objective.valid.index.min()  # row order = time
    assert len(objective.fit_part) + len(objective.valid) == len(frame)
    result = run_sweep(
        objective,
        LIGHTGBM_SPACE,
        n_trials=4,
        seed=1,
        tracking_uri=tracking,
        experiment="lgbm",
        tags={"dataset": "generated-4000"},
        progress=False,
    )

    values = [t.value for t in result.study.trials]
    assert result.best_value == max(values)
    # the reported AUC is the validation AUC, recomputed here by sklearn
    predictions = result.best_model.predict_proba(objective.valid)
    assert result.best_value == pytest.approx(
        roc_auc_score(objective.valid.label, predictions), abs=1e-9
    )

    client, parents, children = _runs(tracking, "lgbm")
    assert len(parents) == 1
    assert len(children) == 4
    parent = parents[0]
    assert parent.info.run_id == result.run_id
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["best_auc"] == pytest.approx(result.best_value)
    assert parent.data.params["n_trials"] == "4"
    assert parent.data.tags["dataset"] == "generated-4000"
    by_trial = {int(r.data.tags["trial"]): r for r in children}
    for trial in result.study.trials:
        run = by_trial[trial.number]
        assert run.data.tags["mlflow.parentRunId"] == result.run_id
        assert run.data.tags["dataset"] == "generated-4000"
        assert run.data.tags["state"] == "COMPLETE"
        assert run.data.params == {k: str(v) for k, v in trial.params.items()}
        assert run.data.metrics["auc"] == pytest.approx(trial.value)
        history = client.get_metric_history(run.info.run_id, "auc_intermediate")
        assert [m.step for m in history] == list(range(10, 10 * (len(history) + 1), 10))

    # the best trial's model is an artefact of its run and of the sweep's run, and loads
    best_run = parent.data.tags["best_trial_run"]
    assert by_trial[result.study.best_trial.number].info.run_id == best_run
    for run_id in (best_run, parent.info.run_id):
        folder = client.download_artifacts(run_id, "model", str(tmp_path / run_id))
        loaded = LightGBMClickModel.load(folder)
        np.testing.assert_allclose(loaded.predict_proba(objective.valid), predictions, atol=1e-12)
    others = [r for r in children if r.info.run_id != best_run]
    assert all(not client.list_artifacts(r.info.run_id) for r in others)


def test_same_seed_same_trials(tracking):
    def params(seed):
        result = run_sweep(
            Parabola(),
            SPACE,
            n_trials=8,
            seed=seed,
            tracking_uri=tracking,
            experiment="seeds",
            progress=False,
        )
        return [t.params for t in result.study.trials]

    first = params(7)
    assert params(7) == first
    assert params(8) != first


def test_the_optimizer_finds_the_optimum(tracking):
    result = run_sweep(
        Parabola(),
        SPACE,
        n_trials=40,
        seed=0,
        tracking_uri=tracking,
        experiment="optimum",
        prune=False,
        progress=False,
    )
    assert abs(result.best_params["x"] - 0.3) < 0.05
    random_best = max(-((x - 0.3) ** 2) for x in np.random.default_rng(0).random(10))
    assert result.best_value >= random_best - 1e-12  # at least as good as 10 random draws
    importance = result.param_importance()  # the value depends on x only, never on n
    assert list(importance.index) == ["x", "n"]
    assert importance.sum() == pytest.approx(1.0)
    assert importance["x"] > 0.9


def test_pruning_stops_trials_below_the_median(tracking):
    objective = Parabola()
    result = run_sweep(
        objective,
        SPACE,
        n_trials=30,
        seed=2,
        tracking_uri=tracking,
        experiment="pruning",
        progress=False,
    )
    trials = result.trials
    pruned = trials[trials.state == "PRUNED"]
    assert len(pruned) > 0
    assert len(objective.finished) == (trials.state == "COMPLETE").sum()  # pruned never finished
    for _, row in pruned.iterrows():  # each was below the median of completed earlier trials
        earlier = [
            t.intermediate_values[1]
            for t in result.study.trials[: row.trial]
            if t.state.name == "COMPLETE"
        ]
        mine = result.study.trials[row.trial].intermediate_values[1]
        assert mine < np.median(earlier)
    _, _, children = _runs(tracking, "pruning")
    states = {r.data.tags["trial"]: (r.data.tags["state"], r.info.status) for r in children}
    for number in pruned.trial:
        assert states[str(number)] == ("PRUNED", "KILLED")

    unpruned = run_sweep(
        Parabola(),
        SPACE,
        n_trials=30,
        seed=2,
        tracking_uri=tracking,
        experiment="no-pruning",
        prune=False,
        progress=False,
    )
    assert set(unpruned.trials.state) == {"COMPLETE"}


def test_time_budget_stops_the_sweep(tracking):
    objective = Parabola(sleep=0.2)
    start = time.monotonic()
    result = run_sweep(
        objective,
        SPACE,
        n_trials=1000,
        timeout=1.5,
        tracking_uri=tracking,
        experiment="timeout",
        prune=False,
        progress=False,
    )
    assert 2 <= len(result.study.trials) < 20
    assert time.monotonic() - start < 10


def test_parallel_trials_run_at_the_same_time(tracking):
    objective = Parabola(sleep=0.3)
    run_sweep(
        objective,
        SPACE,
        n_trials=6,
        n_jobs=2,
        tracking_uri=tracking,
        experiment="parallel",
        prune=False,
        progress=False,
    )
    spans = objective.spans
    overlap = max(sum(s < t < e for s, e in spans) for t in (s + 0.15 for s, _ in spans))
    assert overlap == 2
    _, parents, children = _runs(tracking, "parallel")
    assert len(parents) == 1
    assert sorted(int(r.data.tags["trial"]) for r in children) == list(range(6))


def test_a_failing_trial_fails_the_sweep_and_its_runs(tracking):
    class Broken(Parabola):
        def __call__(self, params, report=None):
            raise ValueError("bad parameters")

    with pytest.raises(ValueError, match="bad parameters"):
        run_sweep(
            Broken(), SPACE, n_trials=3, tracking_uri=tracking, experiment="broken", progress=False
        )
    _, parents, children = _runs(tracking, "broken")
    assert parents[0].info.status == "FAILED"
    assert [(r.info.status, r.data.tags["state"]) for r in children] == [("FAILED", "FAIL")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_trials": 0}, "n_trials"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"timeout": -1}, "timeout must be > 0"),
        ({"space": {}}, "at least one parameter"),
    ],
)
def test_bad_settings(tracking, kwargs, message):
    space = kwargs.pop("space", SPACE)
    with pytest.raises(ValueError, match=message):
        run_sweep(Parabola(), space, tracking_uri=tracking, progress=False, **kwargs)


def test_a_tracking_server_that_is_down_is_one_error_at_once():
    from recommenders_kit.errors import StoreUnavailableError
    from recommenders_kit.serving.launch import free_port

    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailableError, match=f"the MLflow server at {down} does not"):
        run_sweep(Parabola(), SPACE, n_trials=1, tracking_uri=down, progress=False)


def test_artefacts_go_beside_the_sqlite_store(tmp_path, monkeypatch):
    """Not into ./mlruns of whatever directory the sweep runs from."""
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    tracking = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    (tmp_path / "store").mkdir()
    result = run_sweep(Parabola(), SPACE, n_trials=2, tracking_uri=tracking, experiment="here")
    client = MlflowClient(tracking)
    location = client.get_experiment_by_name("here").artifact_location
    assert location == (tmp_path / "store" / "mlartifacts" / "here").as_uri()
    client.log_text(result.run_id, "note", "note.txt")
    assert (tmp_path / "store" / "mlartifacts" / "here").is_dir()
    assert list(elsewhere.iterdir()) == []


def test_default_tracking_store_is_in_the_working_directory(tmp_path, monkeypatch):
    from recommenders_kit.tuning.sweep import default_tracking_uri

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert default_tracking_uri() == f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "azureml://example")
    assert default_tracking_uri() == "azureml://example"


def test_als_sweep_on_movielens(spark, ml100k, tracking):
    from recommenders_kit.tuning.objectives import RecommenderObjective
    from recommenders_kit.tuning.space import Choice

    train = spark.createDataFrame(ml100k)
    objective = RecommenderObjective(train, k=10)
    assert objective.fit_part.count() + objective.valid.count() == len(ml100k)
    assert objective.fit_part.join(objective.valid, ["userID", "itemID"]).count() == 0
    space = {
        "rank": IntUniform(5, 15),
        "max_iter": IntUniform(4, 7),
        "implicit_prefs": Choice((True,)),
        "alpha": Uniform(1.0, 20.0),
    }
    result = run_sweep(
        objective,
        space,
        n_trials=3,
        seed=4,
        tracking_uri=tracking,
        experiment="als",
        progress=False,
    )
    assert result.best_metrics == objective.evaluate(result.best_model, objective.valid)
    assert 0.05 < result.best_value < 1.0
    assert result.best_metrics["precision_at_k"] > 0.05
    client, _, children = _runs(tracking, "als")
    for run in children:  # reported at a third of 6+ iterations; the final value is not
        history = client.get_metric_history(run.info.run_id, "ndcg_at_k_intermediate")
        iters = int(run.data.params["max_iter"])
        assert [m.step for m in history] == ([iters // 3] if iters >= 6 else [])
        assert run.data.metrics["ndcg_at_k"] > 0
    # the final model: the chosen parameters retrained on all of train, validation included
    final = objective.refit(result.best_params)
    assert final.fingerprint.rows == len(ml100k)
    assert final.rank == result.best_params["rank"]
    # the best trial's (Spark) model, logged in the sweep's run and registered there
    import mlflow

    info = result.log_best_model("movielens_als")
    client = mlflow.MlflowClient(tracking, registry_uri=tracking)
    assert client.get_model_version_by_alias("movielens_als", "champion").source.endswith(
        info.model_id
    )
    assert [
        m.model_id
        for m in client.search_logged_models([client.get_experiment_by_name("als").experiment_id])
    ] == [info.model_id]
    assert info.run_id == result.run_id


def test_ease_sweep_on_one_machine(ml100k, tracking):
    """EASE's sweep: each trial's value is the nDCG an independent fit and evaluation give."""
    from recommenders_kit.evaluation.pandas import ndcg_at_k
    from recommenders_kit.models.ease.pandas import EASERecommender
    from recommenders_kit.tuning.objectives import RecommenderObjective
    from recommenders_kit.tuning.space import EASE_SPACE

    objective = RecommenderObjective(ml100k, model="ease", k=10)
    assert objective.fixed == {}  # EASE takes no seed
    result = run_sweep(
        objective, EASE_SPACE, n_trials=3, seed=2, tracking_uri=tracking, experiment="ease"
    )
    assert isinstance(result.best_model, EASERecommender)
    for _, trial in result.trials.iterrows():
        model = EASERecommender(lam=trial["lam"], weighting=trial["weighting"])
        recs = model.fit(objective.fit_part).recommend_k_items(k=10)
        assert trial["value"] == pytest.approx(ndcg_at_k(objective.valid, recs, k=10), abs=1e-9)
    assert result.best_value == result.trials.value.max()
    client, _, children = _runs(tracking, "ease")
    assert len(children) == 3
    for run in children:  # EASE has no iterations: nothing to prune on, every trial completes
        assert client.get_metric_history(run.info.run_id, "ndcg_at_k_intermediate") == []
        assert run.data.tags["state"] == "COMPLETE"
    final = objective.refit(result.best_params)
    assert final.lam == result.best_params["lam"]
    assert final.fingerprint.rows == len(ml100k)
