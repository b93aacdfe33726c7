"""The two model kinds the scoring service serves, behind one ``score(payload)`` method.

* :class:`ClickScorer` (``lightgbm-click``): a saved
  :class:`~recommenders_kit.models.lightgbm.pandas.LightGBMClickModel` folder (what either
  engine's click model saves); rows of raw Criteo-shaped features in, click probabilities out,
  the saved encoders applied exactly as in training.
* :class:`TopKScorer` (``als-topk``): a folder written by
  :func:`~recommenders_kit.serving.bundle.save_topk_bundle`; a user id in, the stored top-k list
  out, from Cosmos DB when the ``RECOMMENDERS_KIT_COSMOS_*`` settings are present (see
  :meth:`~recommenders_kit.storage.cosmos.CosmosSettings.from_env`), else from the bundle's own
  ``topk.jsonl``; unknown users get the popularity list (``source: "popular"``). When the
  store does not answer in time (Cosmos DB down or unreachable: ``read_timeout_s``, 0.5 s by
  default) every user gets the popularity list marked ``source: "fallback"``, so the
  service keeps answering; a container missing at start-up fails ``init()`` (the service
  never becomes ready), one that disappears later is treated as unavailable.

:func:`load_scorer` picks the kind from the folder. A bad request raises
:class:`~recommenders_kit.serving.schema.RequestError` (status 4xx, a message, and per-field
details), never anything else;
:func:`respond` turns a raw request body into ``(status, JSON body)`` the same way for every
server (Azure ML's entry script and Spark Serving).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from recommenders_kit.errors import InputError, MissingResourceError, StoreUnavailableError
from recommenders_kit.serving.bundle import TOPK_KIND
from recommenders_kit.serving.schema import (
    SCHEMA_MISMATCH,
    TOO_MANY_ROWS,
    ClickResponse,
    RequestError,
    Source,
    TopKRequest,
    TopKResponse,
    click_request_model,
    echoed,
    parse_body,
)
from recommenders_kit.settings import COSMOS_ENV, env_value
from recommenders_kit.storage.topk import LocalTopKStore, TopKStore

CLICK_KIND = "lightgbm-click"
#: The error body of a request to ``/score`` that is not a POST (status 405).
NOT_A_POST = {"error": "POST the request as JSON to /score"}
logger = logging.getLogger(__name__)


def _location(loc: tuple) -> str:
    out = ""
    for part in loc:
        name = echoed(str(part))
        out += f"[{part}]" if isinstance(part, int) else (f".{name}" if out else name)
    return out


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], payload: Any) -> M:
    """``model.model_validate(payload)`` with errors turned into a :class:`RequestError`."""
    try:
        return model.model_validate(payload)
    except ValidationError as e:
        errors = e.errors(include_url=False, include_input=False)
        if any(err["type"] == "too_long" and err["loc"] == ("rows",) for err in errors):
            raise RequestError(413, TOO_MANY_ROWS) from None
        raise RequestError(422, SCHEMA_MISMATCH, _details(errors)) from None


def _details(errors: list[Any], limit: int = 20) -> list[dict[str, str]]:
    """One entry per problem, with the missing fields of one object folded into one entry."""
    details: list[dict[str, str]] = []
    missing: dict[tuple, list[str]] = {}
    for err in errors:
        if err["type"] == "missing" and len(err["loc"]) > 1:
            missing.setdefault(err["loc"][:-1], []).append(str(err["loc"][-1]))
        else:
            details.append({"field": _location(err["loc"]), "problem": err["msg"]})
    for loc, names in missing.items():
        problem = "missing: " + ", ".join(names) + " (send null for a missing value)"
        details.append({"field": _location(loc), "problem": problem})
    return details[:limit]


class ClickScorer:
    """Click probabilities from a saved LightGBM click-model folder."""

    kind = CLICK_KIND

    def __init__(self, folder: str | Path):
        from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel

        self.model = LightGBMClickModel.load(folder)
        encoder = self.model.encoder
        self.request_model = click_request_model(
            list(encoder.numeric_cols), list(encoder.categorical_cols)
        )
        meta = self.model.meta
        self.model_version = (meta.model_version if meta else None) or Path(folder).name

    def score(self, payload: Any) -> dict[str, Any]:
        request: Any = validate(self.request_model, payload)
        probabilities = self.model.predict_proba([row.__dict__ for row in request.rows])
        return ClickResponse(
            probabilities=probabilities.tolist(), model_version=self.model_version
        ).model_dump()


class TopKScorer:
    """Stored per-user lists with a popularity fallback, from an ``als-topk`` folder."""

    kind = TOPK_KIND

    def __init__(self, folder: str | Path, store: TopKStore | None = None):
        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text())
        self.model_version = meta["model_version"]
        self.popular = json.loads((folder / "popular.json").read_text())
        if store is None:
            store = _store_from_env() or LocalTopKStore.load(folder / "topk.jsonl")
        self.store = store

    def score(self, payload: Any) -> dict[str, Any]:
        request = validate(TopKRequest, payload)
        try:
            doc = self.store.get(request.user_id, self.model_version)
            source: Source = "personal" if doc else "popular"
        except StoreUnavailableError as e:  # keep answering: the popular list, marked
            logger.warning("top-k store unavailable, serving the popularity list: %s", e)
            doc, source = None, "fallback"
        items = doc["items"] if doc else self.popular
        return TopKResponse(
            user_id=str(request.user_id),
            model_version=self.model_version,
            source=source,
            items=items[: request.k],
        ).model_dump()


def _store_from_env() -> TopKStore | None:
    if not env_value(COSMOS_ENV + "ENDPOINT"):
        return None
    from recommenders_kit.storage.cosmos import CosmosSettings, RecommendationStore

    return RecommendationStore(CosmosSettings.from_env())


def model_folder(model_dir: str | Path) -> Path:
    """The folder holding ``meta.json`` / ``model.txt``: ``model_dir`` or its one subfolder.

    Azure ML mounts a registered folder model under ``$AZUREML_MODEL_DIR/<folder name>``.
    """
    root = Path(model_dir)
    if (root / "meta.json").exists() or (root / "model.txt").exists():
        return root
    subfolders = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    if len(subfolders) == 1:
        return model_folder(subfolders[0])
    raise MissingResourceError(
        f"{root} holds no model: expected meta.json (top-k bundle) or model.txt (click model)"
    )


def load_scorer(model_dir: str | Path) -> ClickScorer | TopKScorer:
    """The scorer for the model found in ``model_dir`` (see :func:`model_folder`)."""
    folder = model_folder(model_dir)
    if (folder / "model.txt").exists():
        return ClickScorer(folder)
    kind = json.loads((folder / "meta.json").read_text()).get("kind")
    if kind != TOPK_KIND:
        raise InputError(f"{folder / 'meta.json'}: unknown model kind {kind!r}")
    return TopKScorer(folder)


def respond(scorer: ClickScorer | TopKScorer | None, raw: str | bytes) -> tuple[int, dict]:
    """``(HTTP status, JSON body)`` for one raw request body (see
    :mod:`recommenders_kit.serving.schema`): 200 and the answer, or a 4xx and the error body;
    503 while no model is loaded; 500 without details (logged here) if scoring itself fails.

    >>> respond(None, "[1, 2")[0]
    400
    >>> respond(None, "[1, 2]")
    (503, {'error': 'the service is starting: no model is loaded yet'})
    """
    try:
        payload = parse_body(raw)
    except RequestError as e:
        return e.status, e.body()
    if scorer is None:
        return 503, {"error": "the service is starting: no model is loaded yet"}
    try:
        return 200, scorer.score(payload)
    except RequestError as e:
        return e.status, e.body()
    except Exception:
        logger.exception("scoring failed")
        return 500, {"error": "internal error while scoring; see the service log"}
