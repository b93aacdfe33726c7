"""The Azure ML entry script: ``init()`` loads the model, ``run(request)`` answers one request.

Azure ML's inference server (``azmlinfsrv``, the same in the cloud and locally) imports this
module, calls :func:`init` once per worker with ``AZUREML_MODEL_DIR`` set to the registered
model's folder, then :func:`run` with each HTTP request (:func:`answer` handles its body).
The answer is the JSON response (status 200) or an error body
``{"error": ..., "details": [...]}`` with a 4xx status: 400 malformed JSON, 405 not a POST,
413 too large, 422 schema problems (the limits are in :mod:`recommenders_kit.serving.schema`).
No stack trace ever reaches the client; unexpected failures are logged here and answered 500
without details.

Locally: ``recommenders-kit serve --model-dir <folder>`` (see
:mod:`recommenders_kit.serving.server`).
"""

from __future__ import annotations

import logging
from typing import Any

from recommenders_kit.errors import SetupError
from recommenders_kit.serving.schema import MAX_BODY_BYTES, RequestError, check_body_size
from recommenders_kit.serving.scorers import NOT_A_POST, load_scorer, respond
from recommenders_kit.settings import MODEL_DIR_ENV, env_value

logger = logging.getLogger(__name__)
try:  # the server's marker for an entry script that reads the raw request
    from azureml_inference_server_http.api.aml_request import rawhttp
except ImportError:  # not serving (docs, a unit test of the body handling)

    def rawhttp(func: Any) -> Any:
        return func


_scorer = None


def init() -> None:
    """Load the model found under ``$AZUREML_MODEL_DIR``."""
    global _scorer
    model_dir = env_value(MODEL_DIR_ENV)
    if not model_dir:
        raise SetupError("AZUREML_MODEL_DIR is not set: it must name the model folder")
    _scorer = load_scorer(model_dir)
    logger.info("loaded %s model version %s", _scorer.kind, _scorer.model_version)


def _reply(body: dict, status: int) -> Any:
    from azureml_inference_server_http.api.aml_response import AMLResponse

    return AMLResponse(body, status, json_str=True)


@rawhttp
def run(request: Any) -> Any:
    """Answer one HTTP request to ``/score`` (the server hands the raw request over, so that
    every refusal, undecodable bytes and oversized bodies included, gets this module's error
    body): a body over ``MAX_BODY_BYTES`` is refused before it is read."""
    if request.method != "POST":
        return _reply(NOT_A_POST, 405)
    try:
        check_body_size(request.content_length or 0)
    except RequestError as e:
        return _reply(e.body(), e.status)
    try:
        body = request.stream.read(MAX_BODY_BYTES + 1)
    except Exception as e:  # a broken chunked encoding, a client gone mid-body
        return _reply({"error": f"the request body could not be read: {type(e).__name__}"}, 400)
    return answer(body)


def answer(raw: str | bytes) -> Any:
    """Score one request body (JSON text); see :func:`~recommenders_kit.serving.scorers.respond`."""
    status, body = respond(_scorer, raw)
    return body if status == 200 else _reply(body, status)
