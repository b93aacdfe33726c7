"""Azure ML sweep jobs built from the local search space, validated by the SDK's own schema."""

from __future__ import annotations

import math

import pytest
import yaml
from azure.ai.ml import load_job

from recommenders_kit.deploy import azureml as ml
from recommenders_kit.tuning.azureml import sweep_environment, sweep_job
from recommenders_kit.tuning.space import ALS_SPACE, LIGHTGBM_SPACE, Choice, IntUniform, parse


@pytest.fixture(scope="module")
def code(tmp_path_factory):
    return ml.code_folder(tmp_path_factory.mktemp("code") / "code")


def _reload(job, tmp_path):
    path = ml.write_yaml(job, tmp_path / "sweep.yaml")
    return load_job(source=path), yaml.safe_load(path.read_text())


def test_als_sweep_job(code, tmp_path):
    env = sweep_environment("als")
    job = sweep_job(
        "als",
        compute="cpu-cluster",
        code=code,
        environment=env,
        data_args={"size": "1m"},
        max_total_trials=40,
    )
    back, as_yaml = _reload(job, tmp_path)
    assert as_yaml["type"] == "sweep"
    assert as_yaml["compute"] == "azureml:cpu-cluster"
    assert as_yaml["objective"] == {"goal": "maximize", "primary_metric": "ndcg_at_k"}
    assert as_yaml["sampling_algorithm"] == "random"
    assert as_yaml["early_termination"]["type"] == "bandit"
    assert as_yaml["limits"]["max_total_trials"] == 40
    space = as_yaml["search_space"]
    assert set(space) == set(ALS_SPACE)
    assert space["rank"] == {"type": "choice", "values": list(range(5, 101))}
    assert space["reg_param"]["type"] == "loguniform"
    assert math.exp(space["reg_param"]["min_value"]) == pytest.approx(1e-3)
    assert math.exp(space["alpha"]["max_value"]) == pytest.approx(50.0)
    assert space["implicit_prefs"]["values"] == ["true", "false"]
    command = back.trial.command
    assert command.startswith("python -m recommenders_kit.tuning.trial als --size 1m ")
    ease = sweep_job("ease", compute="c", code=code, environment=env, max_total_trials=4)
    assert ease.trial.command == (
        "python -m recommenders_kit.tuning.trial ease --param lam=${{search_space.lam}} "
        "--param weighting=${{search_space.weighting}}"
    )
    for name in ALS_SPACE:
        assert f"--param {name}=${{{{search_space.{name}}}}}" in command
    # what a trial receives for each value of the space, read back as the local sweep has it
    received = [
        f"{n}={d['values'][0] if 'values' in d else d['min_value']}" for n, d in space.items()
    ]
    assert parse(ALS_SPACE, received)["implicit_prefs"] is True
    deps = as_yaml["trial"]["environment"]["conda_file"]["dependencies"]
    assert "openjdk=17" in deps
    assert "azureml-mlflow" in deps[-1]["pip"]
    assert any(r.startswith("optuna") for r in deps[-1]["pip"])
    assert any(r.startswith("pyspark") for r in deps[-1]["pip"])


def test_lightgbm_sweep_job_with_other_sampling_and_policy(code, tmp_path):
    job = sweep_job(
        "lightgbm",
        compute="cpu",
        code=code,
        environment="azureml:sweep-env:1",
        sampling="bayesian",
        early_termination=None,
        data_args={"data": "generated", "rows": 1_000_000},
    )
    back, as_yaml = _reload(job, tmp_path)
    assert as_yaml["objective"]["primary_metric"] == "auc"
    assert as_yaml["sampling_algorithm"] == "bayesian"
    assert "early_termination" not in as_yaml
    assert set(as_yaml["search_space"]) == set(LIGHTGBM_SPACE)
    assert "--data generated --rows 1000000" in back.trial.command

    grid = sweep_job(
        "lightgbm",
        compute="cpu",
        code=code,
        environment="azureml:e:1",
        sampling="grid",
        early_termination="truncation",
        space={"num_leaves": Choice((31, 63)), "min_count": IntUniform(5, 7)},
    )
    _, as_yaml = _reload(grid, tmp_path)
    assert as_yaml["search_space"]["min_count"]["values"] == [5, 6, 7]
    assert as_yaml["early_termination"]["type"] == "truncation_selection"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sampling": "bayesian"}, ValueError, "takes no early termination"),
        ({"sampling": "grid"}, ValueError, "grid sampling needs discrete"),
        ({"sampling": "sobol"}, ValueError, "sampling"),
        ({"space": {"depth": IntUniform(1, 3)}}, ValueError, r"\['depth'\] are not als"),
        ({"max_total_trials": 0}, ValueError, "max_total_trials"),
    ],
)
def test_bad_sweep_settings(code, kwargs, error, message):
    with pytest.raises(error, match=message):
        sweep_job("als", compute="cpu", code=code, environment="azureml:e:1", **kwargs)


def test_code_folder_must_hold_the_package(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="build it with recommenders_kit.deploy.azureml.code_folder"
    ):
        sweep_job("als", compute="cpu", code=tmp_path, environment="azureml:e:1")
