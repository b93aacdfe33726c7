"""The Azure ML entry script: ``init()`` loads the model, ``run(raw)`` answers one request.

Azure ML's inference server (``azmlinfsrv``, the same in the cloud and locally) imports this
module, calls :func:`init` once per worker with ``AZUREML_MODEL_DIR`` set to the registered
model's folder, then :func:`run` with each request body as text. The answer is the JSON
response (status 200) or an error body ``{"error": ..., "details": [...]}`` with a 4xx
status: 400 malformed JSON, 413 too many rows, 422 schema problems. No stack trace ever
reaches the client; unexpected failures are logged here and answered 500 without details.

Locally: ``recommenders-kit serve --model-dir <folder>`` (see
:mod:`recommenders_kit.serving.server`).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from recommenders_kit.serving.scorers import RequestError, load_scorer

logger = logging.getLogger(__name__)
_scorer = None


def init() -> None:
    """Load the model found under ``$AZUREML_MODEL_DIR``."""
    global _scorer
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if not model_dir:
        raise RuntimeError("AZUREML_MODEL_DIR is not set: it must name the model folder")
    _scorer = load_scorer(model_dir)
    logger.info("loaded %s model version %s", _scorer.kind, _scorer.model_version)


def _reply(body: dict, status: int) -> Any:
    from azureml_inference_server_http.api.aml_response import AMLResponse

    return AMLResponse(body, status, json_str=True)


def run(raw_data: str) -> Any:
    """Score one request body (JSON text); see :mod:`recommenders_kit.serving.schema`."""
    if not raw_data or not raw_data.strip():
        return _reply(
            {"error": "empty request body: send JSON with Content-Type: application/json"}, 400
        )
    try:
        payload = json.loads(raw_data)
    except (json.JSONDecodeError, TypeError) as e:
        return _reply({"error": f"malformed JSON: {e}"}, 400)
    if _scorer is None:
        return _reply({"error": "the service is starting: no model is loaded yet"}, 503)
    try:
        return _scorer.score(payload)
    except RequestError as e:
        return _reply(e.body(), e.status)
    except Exception:
        logger.exception("scoring failed")
        return _reply({"error": "internal error while scoring; see the service log"}, 500)
