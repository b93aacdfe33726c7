"""The library's models as MLflow models: log, register, serve and batch-score them the way
Databricks and Azure ML do.

:func:`log_model` logs any of the four trained model classes (ALS and the LightGBM click
model, each on pandas or Spark) as an ``mlflow.pyfunc`` model whose files are the model's own
saved folder - no pickle. Its loader is this module (``loader_module``), so the model loads
wherever this package is installed, with or without Spark:

* a **recommender** (either ALS engine) is logged as its factors (a Spark model through
  :func:`~recommenders_kit.models.als.to_pandas`): it scores without a JVM. Input: a frame
  with the user column; output: one row per input row - the user, ``items`` (item ids, best
  first) and ``scores``, the lists ``recommend_k_items`` gives, ties included. Params ``k``
  (default 10) and ``remove_seen`` (default true) are in the signature, so
  ``predict(df, params={"k": 5})`` and a REST body with ``"params"`` both work. A user the
  model does not know gets empty lists (``recommend_k_items`` gives it no rows);
* a **click model** (either engine: both save the same folder) takes the Criteo feature
  columns - integer features declared ``double``, as they have gaps - and gives
  ``probability``, equal to ``predict_proba``; unseen categories and missing values are
  scored as ``predict_proba`` scores them.

Every logged model has a signature (inputs, outputs, params), an input example, and
requirements that pin this package's version and its engine's dependencies (no pyspark for
any of them). Registry names are checked before anything is sent: on Unity Catalog
(``mlflow.set_registry_uri("databricks-uc")``) a name must have three parts
(:func:`check_unity_catalog_name`); :func:`register` sets an alias (``champion``) to load by
``models:/NAME@champion``.

Example::

    import mlflow
    from recommenders_kit.deploy.mlflow import log_model, register
    info = log_model(model, "als", input_example=test[["userID"]].head(3))
    version = register(info.model_uri, "movielens_als", alias="champion")
    recs = mlflow.pyfunc.load_model("models:/movielens_als@champion").predict(
        users, params={"k": 5})
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommenders_kit import __version__
from recommenders_kit.constants import DEFAULT_K
from recommenders_kit.datasets.criteo import CAT_COLS, INT_COLS
from recommenders_kit.deploy._requirements import requirements
from recommenders_kit.errors import (
    InputError,
    InputTypeError,
    MissingResourceError,
    ModelFormatError,
    StoreUnavailableError,
)
from recommenders_kit.models.base import require_fitted
from recommenders_kit.settings import PATH_ENV, env_value

#: The version of the folder a logged model holds (``data/recommenders_kit``); a folder of
#: a newer format is refused at load with an error saying to upgrade.
FORMAT = 1
#: What a logged model is: top-k lists per user, or click probabilities per row.
KINDS = ("recommender", "click_model")
ITEMS_COL, SCORES_COL, PROBABILITY_COL = "items", "scores", "probability"
#: The params of a recommender's ``predict`` and their defaults.
RECOMMENDER_PARAMS = {"k": DEFAULT_K, "remove_seen": True}
#: Up to this many rows a click model scores its input as records (``predict_proba`` on a
#: list of mappings: the same probabilities, 2-3x faster than through a frame for one row).
RECORD_ROWS = 100
#: The alias :func:`register` sets unless told otherwise.
DEFAULT_ALIAS = "champion"
_SPEC, _MODEL = "spec.json", "model"
#: The package extras a logged model of each kind needs beside the core requirements.
_EXTRAS: dict[str, tuple[str, ...]] = {"recommender": (), "click_model": ("lightgbm",)}
_UC_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_HEALTH_TIMEOUT_S = 5.0


# ------------------------------------------------------------------ logging


def log_model(
    model: Any,
    name: str,
    *,
    registered_model_name: str | None = None,
    alias: str | None = None,
    input_example: Any = None,
    wheel: str | Path | None = None,
) -> Any:
    """Log a fitted model of the library as an MLflow pyfunc model; returns MLflow's
    ``ModelInfo`` (``model_uri`` loads it).

    Args:
        model: a fitted ``ALSRecommender`` or ``LightGBMClickModel`` of either engine.
        name: the logged model's name (MLflow 3's ``name=``).
        registered_model_name: also register it under this name (checked first: three parts
            on Unity Catalog).
        alias: with ``registered_model_name``, point this alias (e.g. ``"champion"``) at
            the new version.
        input_example: a few input rows (a pandas frame, or for a Spark model a Spark one);
            by default two of the model's users, or one row of each categorical column's most
            frequent value.
        wheel: this package's built wheel, logged with the model (``code/``) and installed
            from there (``requirements.txt`` names ``code/<wheel>``): for a serving platform
            that cannot reach an index holding ``recommenders-kit`` (Databricks Model
            Serving, Azure ML). Without it, the requirement is ``recommenders-kit==VERSION``.

    Raises:
        NotFittedError: an unfitted model. InputError: a model of the wrong shape (a
        recommender without its training pairs), a bad registered name.
        StoreUnavailableError: the tracking server (or with a registered name, the
        registry) does not answer: nothing is logged.
    """
    import mlflow

    kind = model_kind(model)
    require_fitted(model.model, model)
    if registered_model_name is not None:
        check_registered_name(registered_model_name)
    pip_requirements = pinned_requirements(_EXTRAS[kind], wheel)
    require_reachable(mlflow.get_tracking_uri())
    if registered_model_name is not None:
        require_reachable(mlflow.get_registry_uri())
    with tempfile.TemporaryDirectory(prefix="rk-mlflow-") as tmp:
        data = Path(tmp) / "recommenders_kit"  # MLflow copies it to data/recommenders_kit
        if kind == "recommender":
            signature, example = _recommender_files(model, data, input_example)
        else:
            signature, example = _click_model_files(model, data, input_example)
        (data / _SPEC).write_text(
            json.dumps({"format": FORMAT, "kind": kind, "recommenders_kit": __version__})
        )
        info = mlflow.pyfunc.log_model(
            name=name,
            loader_module=__name__,
            data_path=str(data),
            signature=signature,
            input_example=example,
            pip_requirements=pip_requirements,
            code_paths=[str(wheel)] if wheel else None,
            registered_model_name=registered_model_name,
        )
    if registered_model_name is not None and alias:
        _set_alias(registered_model_name, alias, info.registered_model_version)
    return info


def load_saved(path: str | Path) -> Any:
    """The model a local folder saved by the library holds, ready for :func:`log_model` (what
    ``recommenders-kit mlflow log`` logs): a click model of either engine (``model.txt``) or
    a pandas ALS (``factors.npz``, with its training pairs). A Spark ALS folder holds no
    training pairs: load it with ``ALSRecommender.load``, call ``set_seen(train)`` and log
    the model itself."""
    folder = Path(path)
    if (folder / "model.txt").is_file():
        from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel

        return LightGBMClickModel.load(folder)
    if (folder / "factors.npz").is_file():
        from recommenders_kit.models.als.pandas import ALSRecommender

        return ALSRecommender.load(folder)
    if (folder / "metadata").exists() and (folder / "model").exists():
        raise InputError(
            f"{folder} is a Spark ALS model, saved without its training pairs: load it with "
            "models.als.spark.ALSRecommender.load, call set_seen(train) and pass it to "
            "deploy.mlflow.log_model"
        )
    raise MissingResourceError(
        f"{folder} holds no saved model: expected model.txt (click model) or factors.npz (ALS)"
    )


def model_kind(model: Any) -> str:
    """``"recommender"`` or ``"click_model"`` for a model of the library; InputTypeError
    for anything else."""
    from recommenders_kit.models.base import CLICK_MODEL_STATE, RECOMMENDER_STATE

    if all(hasattr(model, a) for a in RECOMMENDER_STATE) and hasattr(model, "recommend_k_items"):
        return "recommender"
    if all(hasattr(model, a) for a in CLICK_MODEL_STATE) and hasattr(model, "predict_proba"):
        return "click_model"
    raise InputTypeError(
        f"model must be a recommenders_kit ALSRecommender or LightGBMClickModel, got "
        f"{type(model).__name__}"
    )


def pinned_requirements(extras: tuple[str, ...] = (), wheel: str | Path | None = None) -> list[str]:
    """This package at its installed version (or the ``code/`` path of a ``wheel`` logged
    with the model) and the requirements of ``extras``, each pinned to the version installed
    here (what a logged model's ``requirements.txt`` holds; MLflow adds itself)."""
    from packaging.requirements import Requirement

    pinned = [_package_requirement(wheel)]
    for text in requirements(extras):
        req = Requirement(text)
        pinned.append(f"{req.name}=={metadata.version(req.name)}")
    return pinned


def _package_requirement(wheel: str | Path | None) -> str:
    """The requirement line of this package: its version, or the logged wheel's path."""
    if wheel is None:
        return f"recommenders-kit=={__version__}"
    path = Path(wheel)
    if not path.is_file() or not path.name.startswith("recommenders_kit-"):
        raise InputError(f"wheel {str(wheel)!r} is not a recommenders_kit wheel file")
    return f"code/{path.name}"


def _recommender_files(model: Any, data: Path, example: Any) -> tuple[Any, pd.DataFrame]:
    """Save the recommender's factors under ``data``; (signature, input example)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema
    from mlflow.types.schema import Array

    from recommenders_kit.models.als import to_pandas

    local = to_pandas(model)
    if local.seen is None:
        raise InputError(
            "the model does not know its training pairs (loaded without them), so it cannot "
            "leave seen items out: call set_seen(train) before logging it"
        )
    local.save(data / _MODEL)
    user = local.col_user
    example = _pandas(example)
    if example is None:
        example = pd.DataFrame({user: local.model.user_ids[:2]})
    signature = ModelSignature(
        inputs=Schema([ColSpec("long", user)]),
        outputs=Schema(
            [
                ColSpec("long", user),
                ColSpec(Array("long"), ITEMS_COL),
                ColSpec(Array("float"), SCORES_COL),
            ]
        ),
        params=ParamSchema(
            [
                ParamSpec("k", "long", RECOMMENDER_PARAMS["k"]),
                ParamSpec("remove_seen", "boolean", RECOMMENDER_PARAMS["remove_seen"]),
            ]
        ),
    )
    return signature, example[[user]]


def _click_model_files(model: Any, data: Path, example: Any) -> tuple[Any, pd.DataFrame]:
    """Save the click model's folder under ``data``; (signature, input example)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    model.save(data / _MODEL)
    encoder = model.encoder
    example = _pandas(example)
    if example is None:
        stats = encoder.stats.columns
        row: dict[str, Any] = dict.fromkeys(encoder.numeric_cols, 0.0)
        for column in encoder.categorical_cols:
            counts = stats[column].counts
            row[column] = stats[column].values[int(np.argmax(counts))] if counts else None
        example = pd.DataFrame([row])
    signature = ModelSignature(
        inputs=Schema(
            [
                *(ColSpec("double", c) for c in encoder.numeric_cols),
                *(ColSpec("string", c) for c in encoder.categorical_cols),
            ]
        ),
        outputs=Schema([ColSpec("double", PROBABILITY_COL)]),
    )
    example = click_input(example, encoder.numeric_cols, encoder.categorical_cols)
    return signature, example


def click_input(
    frame: pd.DataFrame,
    numeric_cols: Sequence[str] = INT_COLS,
    categorical_cols: Sequence[str] = CAT_COLS,
) -> pd.DataFrame:
    """Criteo rows as a logged click model's signature takes them: the numeric columns as
    float64 (missing: NaN; MLflow refuses to cast pandas' nullable ``Int64``), the categorical
    ones as ``str`` or None; other columns (the label) left out.

    >>> import pandas as pd
    >>> rows = pd.DataFrame({"int00": pd.array([3, None], "Int64"), "cat00": ["a", None]})
    >>> click_input(rows, ["int00"], ["cat00"]).to_dict("list")
    {'int00': [3.0, nan], 'cat00': ['a', None]}
    """
    out = frame[list(numeric_cols)].astype("float64")
    for column in categorical_cols:
        values = frame[column].astype(object)
        out[column] = values.where(values.notna(), None)
    return out


def _pandas(frame: Any) -> pd.DataFrame | None:
    """A pandas frame of an input example given as pandas or Spark (a few rows)."""
    if frame is None or isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "toPandas"):
        return frame.limit(5).toPandas()
    raise InputTypeError(f"input_example must be a DataFrame, got {type(frame).__name__}")


# ------------------------------------------------------------------ registry


def check_unity_catalog_name(name: str) -> None:
    """A Unity Catalog model name: ``catalog.schema.model``, each part a letter or ``_``
    then letters, digits or ``_``; InputError naming the bad part otherwise.

    >>> check_unity_catalog_name("main.recs.movielens_als")
    >>> check_unity_catalog_name("movielens_als")
    Traceback (most recent call last):
    ...
    recommenders_kit.errors.InputError: 'movielens_als' is not a Unity Catalog model name: ...
    """
    if not isinstance(name, str):
        raise InputTypeError(f"a model name must be a str, got {type(name).__name__}")
    parts = name.split(".")
    if len(parts) != 3:
        raise InputError(
            f"{name!r} is not a Unity Catalog model name: it needs three parts, "
            f"catalog.schema.model (found {len(parts)})"
        )
    for label, part in zip(("catalog", "schema", "model"), parts, strict=True):
        if not _UC_PART.match(part):
            raise InputError(
                f"{name!r} is not a Unity Catalog model name: its {label} part {part!r} must "
                "start with a letter or _ and hold only letters, digits and _"
            )


def check_registered_name(name: str, registry_uri: str | None = None) -> None:
    """Check a registered model name for the registry (default: MLflow's current one):
    Unity Catalog's rules on ``databricks-uc``, a non-empty name without ``/`` or ``:``
    elsewhere."""
    import mlflow

    uri = registry_uri or mlflow.get_registry_uri()
    if uri and uri.startswith("databricks-uc"):
        check_unity_catalog_name(name)
    elif not isinstance(name, str) or not name.strip() or set(name) & set("/:@"):
        raise InputError(f"{name!r} is not a model name: a non-empty name without / : or @")


def require_reachable(uri: str) -> None:
    """For an ``http(s)`` tracking or registry URI, its ``/health`` must answer within 5 s:
    a server that is down is one StoreUnavailableError line instead of MLflow's minutes of
    retries. Other URIs (files, SQLite, ``databricks``) are not probed."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=_HEALTH_TIMEOUT_S):
            return
    except urllib.error.HTTPError as e:
        if e.code < 500:
            return  # it answers (a proxy may not route /health)
        cause = f"HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        cause = str(getattr(e, "reason", e))
    raise StoreUnavailableError(f"the MLflow server at {uri} does not answer ({cause})")


def register(
    model_uri: str,
    name: str,
    *,
    alias: str | None = DEFAULT_ALIAS,
    registry_uri: str | None = None,
) -> Any:
    """Register ``model_uri`` as a new version of ``name`` and point ``alias`` at it;
    returns the ``ModelVersion``. The name is checked for the registry first, the server
    must answer: nothing is sent otherwise.

    ``registry_uri``: MLflow's current registry when None; else it becomes MLflow's registry
    (``mlflow.set_registry_uri``), as Databricks' guides set ``databricks-uc`` for Unity
    Catalog (see :func:`recommenders_kit.deploy.databricks.register_in_unity_catalog`).
    """
    import mlflow

    uri = registry_uri or mlflow.get_registry_uri()
    check_registered_name(name, uri)
    require_reachable(uri)
    if registry_uri is not None:
        mlflow.set_registry_uri(registry_uri)
    version = mlflow.register_model(model_uri, name)
    if alias:
        _set_alias(name, alias, version.version)
    return version


def _set_alias(name: str, alias: str, version: str | int) -> None:
    """Point ``alias`` of the registered model ``name`` at ``version`` (MLflow's registry)."""
    from mlflow import MlflowClient

    MlflowClient().set_registered_model_alias(name, alias, str(version))


# ------------------------------------------------------------------ serving


@contextlib.contextmanager
def local_server(model_uri: str, *, port: int = 0, timeout: float = 180.0) -> Iterator[str]:
    """``mlflow models serve -m model_uri --env-manager local`` on 127.0.0.1 in a child
    process - the server Model Serving and Azure ML run, to try requests before deploying.
    Yields its URL once ``/ping`` answers (``/invocations`` takes ``dataframe_split``,
    ``dataframe_records`` and ``params``); stopped when the block ends. MLflow's current
    tracking and registry URIs are passed on (so ``models:/NAME@alias`` resolves); ``port``
    0 picks a free one. JobFailedError with the server's last output if it does not answer
    within ``timeout`` seconds.

    Example::

        with local_server("models:/movielens_als@champion") as url:
            requests.post(url + "/invocations", json={"dataframe_records": [{"userID": 1}],
                                                      "params": {"k": 5}})
    """
    import mlflow

    from recommenders_kit.serving.launch import command_server, free_port

    port = port or free_port()
    scripts = Path(sys.executable).parent  # mlflow runs uvicorn from this environment
    env = {
        **os.environ,
        "PATH": f"{scripts}{os.pathsep}{env_value(PATH_ENV) or ''}",
        "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri(),
        "MLFLOW_REGISTRY_URI": mlflow.get_registry_uri(),
    }
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri]
    command += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    url = f"http://127.0.0.1:{port}"
    with command_server(
        command, f"{url}/ping", env=env, timeout=timeout, name="mlflow models serve"
    ):
        yield url


# ------------------------------------------------------------------ loading (MLflow calls this)


def _load_pyfunc(data_path: str) -> Any:
    """MLflow's entry point for ``loader_module``: the scorer of a logged model's folder."""
    folder = Path(data_path)
    try:
        spec = json.loads((folder / _SPEC).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ModelFormatError(f"{folder / _SPEC}: not a recommenders_kit model ({e})") from None
    if spec.get("format", 0) > FORMAT or spec.get("kind") not in KINDS:
        raise ModelFormatError(
            f"{folder} holds a recommenders_kit MLflow model of format {spec.get('format')} "
            f"({spec.get('kind')}), written by recommenders_kit {spec.get('recommenders_kit')}; "
            f"this one ({__version__}) reads format {FORMAT}: upgrade recommenders-kit"
        )
    if spec["kind"] == "recommender":
        from recommenders_kit.models.als.pandas import ALSRecommender

        return TopKScorer(ALSRecommender.load(folder / _MODEL))
    from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel

    return ProbabilityScorer(LightGBMClickModel.load(folder / _MODEL))


class TopKScorer:
    """What a logged recommender's pyfunc runs: ``predict(frame, params)`` -> one row per
    input row (user, items, scores)."""

    def __init__(self, model: Any):
        self.model = model

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> pd.DataFrame:
        params = {**RECOMMENDER_PARAMS, **(params or {})}
        user = self.model.col_user
        frame = _input_frame(model_input, [user])
        users = frame[user].to_numpy()
        wanted = pd.unique(users)
        with _as_mlflow_error():
            recs = self.model.recommend_k_items(
                wanted, k=params["k"], remove_seen=params["remove_seen"]
            )
        ids = recs[user].to_numpy()
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else ids
        found = ids[starts]
        # each user's run of rows (recommend_k_items gives them contiguous, best first)
        spans = list(zip(starts.tolist(), [*starts[1:].tolist(), len(ids)], strict=True))
        all_items = recs[self.model.col_item].to_numpy()
        all_scores = recs[self.model.col_prediction].to_numpy()
        items = [all_items[a:b] for a, b in spans]
        scores = [all_scores[a:b] for a, b in spans]
        at = pd.Index(found).get_indexer(users)
        empty_items, empty_scores = np.array([], np.int64), np.array([], np.float32)
        return pd.DataFrame(
            {
                user: users,
                ITEMS_COL: [items[i] if i >= 0 else empty_items for i in at],
                SCORES_COL: [scores[i] if i >= 0 else empty_scores for i in at],
            }
        )


class ProbabilityScorer:
    """What a logged click model's pyfunc runs: ``predict(frame)`` -> ``probability``."""

    def __init__(self, model: Any):
        self.model = model

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> pd.DataFrame:
        encoder = self.model.encoder
        columns = [*encoder.numeric_cols, *encoder.categorical_cols]
        frame = _input_frame(model_input, columns)
        # a request's handful of rows: as records, the same probabilities 2-3x sooner
        rows = frame[columns].to_dict("records") if len(frame) <= RECORD_ROWS else frame
        with _as_mlflow_error():
            return pd.DataFrame({PROBABILITY_COL: self.model.predict_proba(rows)})


def _input_frame(data: Any, columns: list[str]) -> pd.DataFrame:
    """``data`` as a pandas frame holding ``columns`` (MLflow enforced the signature before;
    a direct call is checked here)."""
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    missing = [c for c in columns if c not in data.columns]
    if missing:
        _raise_bad_request(f"the input lacks the column(s) {missing}")
    return data


@contextlib.contextmanager
def _as_mlflow_error() -> Iterator[None]:
    """Turn the library's input errors into MLflow's bad-request error (HTTP 400 with the
    message), so that ``mlflow models serve`` and Model Serving name the cause."""
    try:
        yield
    except (InputError, InputTypeError) as e:
        _raise_bad_request(str(e))


def _raise_bad_request(message: str) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import BAD_REQUEST

    raise MlflowException(message, error_code=BAD_REQUEST)


__all__ = [
    "DEFAULT_ALIAS",
    "FORMAT",
    "ITEMS_COL",
    "KINDS",
    "PROBABILITY_COL",
    "RECOMMENDER_PARAMS",
    "RECORD_ROWS",
    "SCORES_COL",
    "ProbabilityScorer",
    "TopKScorer",
    "check_registered_name",
    "check_unity_catalog_name",
    "click_input",
    "load_saved",
    "local_server",
    "log_model",
    "model_kind",
    "pinned_requirements",
    "register",
    "require_reachable",
]
