"""`recommenders-kit datasets download ...` through the real download path (loopback mirror)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.data import read_shared


def _cli(
    *args: str, env_extra: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "recommenders_kit.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_download_movielens_verifies_the_official_checksum(tmp_path, mirror):
    result = _cli(
        "datasets", "download", "movielens", "--size", "100k", "--cache-dir", str(tmp_path)
    )
    # the subprocess does not share the test session's patched registry: the official MD5
    # cannot match the repacked archive, and the error must say so and keep nothing.
    assert result.returncode == 1
    assert "checksum mismatch for ml-100k.zip" in result.stderr
    assert "0e33842e24a9c977be4e0107933c0723" in result.stderr
    assert not (tmp_path / "ml-100k.zip").exists()


def test_download_criteo_offline_names_the_file(tmp_path):
    result = _cli(
        "datasets",
        "download",
        "criteo",
        "--size",
        "sample",
        "--cache-dir",
        str(tmp_path),
        env_extra={"RECOMMENDERS_KIT_OFFLINE": "1"},
    )
    assert result.returncode == 1
    assert str(Path(tmp_path) / "dac_sample.tar.gz") in result.stderr


def test_download_criteo_through_the_mirror(tmp_path, mirror):
    result = _cli("datasets", "download", "criteo", "--cache-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.name == "dac_sample.txt"
    assert len(path.read_text().splitlines()) == 1000


def test_unknown_size_is_a_usage_error():
    result = _cli("datasets", "download", "movielens", "--size", "7k")
    assert result.returncode == 2
    assert "7k" in result.stderr


def test_tune_lightgbm_prints_the_best_trials(tmp_path):
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = _cli(
        "tune",
        "lightgbm",
        "--data",
        "generated",
        "--rows",
        "3000",
        "--trials",
        "3",
        "--tracking-uri",
        tracking,
        "--experiment",
        "cli",
        "--register",
        "criteo_ctr",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "3 trials {'COMPLETE': 3}" in out
    assert "registered as criteo_ctr: models:/criteo_ctr@champion" in out
    import mlflow

    client = mlflow.MlflowClient(tracking, registry_uri=tracking)
    version = client.get_model_version_by_alias("criteo_ctr", "champion")
    logged = client.search_logged_models([client.get_experiment_by_name("cli").experiment_id])
    assert len(logged) == 1
    assert logged[0].model_id in version.source
    assert logged[0].source_run_id in out
    table = out.split("(auc on validation):\n")[1].split("\nbest trial")[0].splitlines()
    assert table[0].split()[:4] == ["trial", "state", "value", "seconds"]
    values = [float(line.split()[2]) for line in table[1:]]
    assert len(values) == 3
    assert values == sorted(values, reverse=True)
    assert "best trial on the test split: auc 0." in out
    assert tracking in out


def test_tune_ease_on_one_machine(tmp_path):
    """Every recommender has its sweep: EASE's on real MovieLens 100k, pandas engine."""
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = _cli(
        *["tune", "ease", "--engine", "pandas", "--trials", "3", "--tracking-uri", tracking],
        env_extra=_ml100k_cache(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "3 trials {'COMPLETE': 3}" in out
    table = out.split("(ndcg_at_k on validation):\n")[1].split("\nbest trial")[0].splitlines()
    assert table[0].split() == ["trial", "state", "value", "seconds", "lam", "weighting"]
    lams = [float(line.split()[4]) for line in table[1:]]
    assert all(10 <= lam <= 5000 for lam in lams)  # EASE_SPACE's bounds
    test_line = next(line for line in out.splitlines() if line.startswith("best trial on"))
    precision = float(test_line.split("precision_at_k ")[1].split(",")[0])
    assert 0.2 < precision < 0.5  # EASE on a random 75/25 split of 100k: about 0.37


def test_tune_rejects_a_bad_budget():
    result = _cli("tune", "lightgbm", "--trials", "0")
    assert result.returncode == 2
    assert "--trials" in result.stderr


def _corrupt_ml100k_cache(cache: Path, field: int = 2, value: str = "three") -> Path:
    """A cache holding ml-100k as extracted files, with line 5000's ``field`` (0: user, 2:
    rating) replaced by ``value`` (by default the rating spelt out)."""
    folder = cache / "ml-100k"
    folder.mkdir(parents=True)
    for name in ("u.item", "u.genre"):
        (folder / name).write_bytes(read_shared(f"movielens/ml-100k/{name}"))
    lines = read_shared("movielens/ml-100k/u.data").decode().splitlines(keepends=True)
    fields = lines[4999].split("\t")
    fields[field] = value if field < 3 else f"{value}\n"
    lines[4999] = "\t".join(fields)
    (folder / "u.data").write_text("".join(lines))
    return folder / "u.data"


@pytest.mark.parametrize(
    "command",
    [
        ["datasets", "download", "movielens"],
        ["quickstart", "als", "--engine", "spark"],
        ["tune", "als", "--trials", "1", "--tracking-uri", "sqlite:///{tmp}/mlflow.db"],
    ],
)
def test_a_corrupt_rating_file_is_one_error_line(tmp_path, command):
    """Found before any Spark job runs: the cached file is read through once before use."""
    path = _corrupt_ml100k_cache(tmp_path / "cache")
    command = [part.format(tmp=tmp_path) for part in command]
    result = _cli(*command, env_extra={"RECOMMENDERS_KIT_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {path}, line 5000: field 'rating' = 'three' is not a valid float32 "
        f"(separator '\\t'): {read_line(path, 5000)!r}"
    ]
    assert "Traceback" not in result.stderr
    assert "Spark" not in result.stderr


@pytest.mark.parametrize(
    ("engine", "field", "value", "problem"),
    [
        ("spark", 2, "nan", "field 'rating' = 'nan' is not a finite number"),
        ("pandas", 2, "inf", "field 'rating' = 'inf' is not a finite number"),
        ("spark", 0, "1" * 22, f"field 'userID' = '{'1' * 22}' is out of the int32 range"),
        ("pandas", 0, "3000000000", "field 'userID' = '3000000000' is out of the int32 range"),
    ],
)
def test_corrupt_values_are_one_error_line_on_both_engines(tmp_path, engine, field, value, problem):
    """NaN and infinite ratings, ids beyond their type (beyond 64 bits, or ones the parser
    would wrap): the file, line and field, before any Spark job runs."""
    path = _corrupt_ml100k_cache(tmp_path / "cache", field, value)
    result = _cli(
        "quickstart",
        "als",
        "--engine",
        engine,
        env_extra={"RECOMMENDERS_KIT_CACHE": str(tmp_path / "cache")},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {path}, line 5000: {problem} (separator '\\t'): {read_line(path, 5000)!r}"
    ]


def read_line(path: Path, number: int) -> str:
    return path.read_text().splitlines()[number - 1]


@pytest.mark.parametrize("engine", ["azureml", "spark"])
def test_serve_without_a_model_is_one_error_line(tmp_path, engine):
    result = _cli("serve", "--engine", engine, "--model-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path} holds no model: expected meta.json (top-k bundle) or model.txt "
        "(click model)"
    ]


def test_debug_shows_the_traceback(tmp_path):
    result = _cli("--debug", "serve", "--model-dir", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    result = _cli("serve", "--model-dir", str(tmp_path), env_extra={"RECOMMENDERS_KIT_DEBUG": "1"})
    assert "Traceback" in result.stderr


def test_no_internet_is_one_paragraph_naming_file_folder_and_mirror(tmp_path):
    result = _cli(
        "datasets",
        "download",
        "movielens",
        "--cache-dir",
        str(tmp_path),
        env_extra={"RECOMMENDERS_KIT_MIRROR": "http://mirror.example.invalid"},
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot download ml-100k.zip from mirror.example.invalid: ")
    assert "https://files.grouplens.org/datasets/movielens/ml-100k.zip (md5 " in line
    assert f"put it at {tmp_path / 'ml-100k.zip'}" in line
    assert "recommenders-kit datasets import" in line


def test_import_refuses_a_file_that_is_not_the_archive(tmp_path):
    wrong = tmp_path / "ml-100k.zip"
    wrong.write_bytes(b"not the archive")
    result = _cli(
        "datasets",
        "import",
        "movielens",
        "--size",
        "100k",
        str(wrong),
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {wrong} is not ml-100k.zip: its md5 is ")
    assert not (tmp_path / "c" / "ml-100k.zip").exists()


def _fail_in_executor(rows):
    from recommenders_kit.errors import InputError

    for _ in rows:
        raise InputError("row 3: field 'rating' = nan")
    yield from ()


@pytest.mark.spark
def test_errors_are_explained_by_type(spark):
    from recommenders_kit.cli import explain
    from recommenders_kit.errors import MissingResourceError

    assert explain(MissingResourceError("no blob a/b\nmore")) == "no blob a/b"
    assert explain(ZeroDivisionError("x")).startswith("ZeroDivisionError: x (--debug")
    frame = spark.range(3)
    for job in (  # a DataFrame job (PythonException) and an RDD job (Py4JJavaError)
        lambda: frame.mapInArrow(_fail_in_executor, frame.schema).collect(),
        lambda: frame.rdd.mapPartitions(_fail_in_executor).collect(),
    ):
        with pytest.raises(Exception, match="row 3") as info:
            job()
        assert explain(info.value) == "row 3: field 'rating' = nan"


def test_mlflow_log_registers_a_saved_model(click_model_dir, tmp_path):
    import mlflow

    from recommenders_kit.datasets.criteo_synthetic import generate
    from recommenders_kit.deploy.mlflow import click_input
    from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel

    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    result = _cli(
        "mlflow",
        "log",
        str(click_model_dir),
        "--register",
        "criteo_ctr",
        "--tracking-uri",
        tracking,
        cwd=elsewhere,
    )
    assert result.returncode == 0, result.stderr
    assert "logged click_model as models:/m-" in result.stdout
    assert "registered criteo_ctr version 1: models:/criteo_ctr@champion" in result.stdout
    # the model's files are beside the store, in the experiment's folder, not in ./mlruns
    assert list(elsewhere.iterdir()) == []
    assert list((tmp_path / "mlartifacts" / "recommenders_kit").rglob("MLmodel"))
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking)
    try:
        loaded = mlflow.pyfunc.load_model("models:/criteo_ctr@champion")
        rows = click_input(generate(20, seed=2)[0])
        want = LightGBMClickModel.load(click_model_dir).predict_proba(rows)
        assert loaded.predict(rows)["probability"].tolist() == want.tolist()
    finally:
        mlflow.set_tracking_uri(before)
    # a folder that holds no model, a bad name: one line each, nothing logged; the folder is
    # checked before any store is opened
    untouched = tmp_path / "untouched.db"
    bad = _cli("mlflow", "log", str(tmp_path), "--tracking-uri", f"sqlite:///{untouched}")
    assert bad.returncode == 1
    assert not untouched.exists()
    assert bad.stderr.strip().splitlines() == [
        f"error: {tmp_path} holds no saved model: expected model.txt (click model) or "
        "factors.npz (ALS)"
    ]
    named = _cli(
        "mlflow", "log", str(click_model_dir), "--register", "a/b", "--tracking-uri", tracking
    )
    assert named.returncode == 1
    assert "is not a model name" in named.stderr
    assert len(named.stderr.strip().splitlines()) == 1
    # a tracking server that is down: one line, at once
    from recommenders_kit.serving.launch import free_port

    down = f"http://127.0.0.1:{free_port()}"
    gone = _cli("mlflow", "log", str(click_model_dir), "--tracking-uri", down)
    assert gone.returncode == 1
    assert gone.stderr.strip().splitlines() == [
        f"error: the MLflow server at {down} does not answer ([Errno 111] Connection refused)"
    ]


def _ml100k_cache(tmp_path: Path) -> dict[str, str]:
    """The environment of a data cache holding the real MovieLens 100k, extracted."""
    folder = tmp_path / "cache" / "ml-100k"
    folder.mkdir(parents=True)
    for name in ("u.data", "u.item", "u.genre"):
        (folder / name).write_bytes(read_shared(f"movielens/ml-100k/{name}"))
    return {"RECOMMENDERS_KIT_CACHE": str(tmp_path / "cache")}


@pytest.mark.parametrize("model", ["ease", "popularity"])
def test_quickstart_runs_every_model(tmp_path, model):
    """Each recommender through the quickstart on one machine, on real MovieLens 100k."""
    out = tmp_path / "metrics.json"
    result = _cli(
        *["quickstart", "als", "--engine", "pandas", "--model", model, "--json", str(out)],
        env_extra=_ml100k_cache(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert f"pandas {'EASE' if model == 'ease' else model}" in result.stdout
    record = json.loads(out.read_text())
    assert record["params"]["model"] == model
    # popularity is the floor of the ladder (0.22 on this protocol), EASE near ALS (0.42)
    low, high = (0.15, 0.3) if model == "popularity" else (0.35, 0.5)
    assert low < record["metrics"]["precision_at_k"] < high
