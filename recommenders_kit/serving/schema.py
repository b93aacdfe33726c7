"""Request and response schemas of the scoring service (pydantic), and its limits.

Two request kinds, one per model kind:

* click probability (``lightgbm-click``)::

    {"rows": [{"int00": 1, ..., "int12": null, "cat00": "68fd1e64", ..., "cat25": null}]}

  every row names every feature of the model (``null`` for a missing value); numbers for the
  numeric features, strings for the categorical ones; at most :data:`MAX_ROWS` rows.
  Answer: ``{"probabilities": [0.21, ...], "model_version": "..."}``.

* top-k lookup (``als-topk``): ``{"user_id": 196, "k": 10}`` with ``1 <= k <=`` :data:`MAX_K`.
  Answer: ``{"user_id": "196", "model_version": "...", "source": "personal" | "popular" |
  "fallback", "items": [{"itemId": 50, "score": 0.93, "rank": 1}, ...]}``: ``popular`` for
  a user without a stored list, ``fallback`` (the same popular list) while the store of lists
  does not answer.

Limits, each answered with a 4xx and the error body ``{"error": ..., "details": [...]}``
(never a 500, whatever the body's shape or size):

* a body over :data:`MAX_BODY_BYTES`: 413; more than :data:`MAX_ROWS` rows: 413;
* not JSON, JSON nested deeper than the parser allows (about 1,000 levels; a request needs
  3), or an integer literal longer than :data:`MAX_NUMBER_DIGITS` digits: 400;
* a field of the wrong type, a missing or unknown field, a non-finite number (``NaN``,
  ``Infinity``, ``1e400``) in a numeric feature, a categorical value longer than
  :data:`MAX_CATEGORY_LENGTH` characters, a user id longer than :data:`MAX_USER_ID_LENGTH`:
  422, with the field named in ``details`` (a name the client sent cut to
  :data:`MAX_ECHO_CHARS` characters; at most 20 details).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    create_model,
    field_validator,
)

from recommenders_kit.errors import InputError, RecommendersKitError

#: Most rows accepted in one click-scoring request (larger batches: split them, or score
#: offline with the library).
MAX_ROWS = 10_000
#: Largest ``k`` of a top-k request.
MAX_K = 100
#: Largest request body, in bytes (a full batch of Criteo rows is about 6 MB).
MAX_BODY_BYTES = 16 * 2**20
#: Longest integer literal, in digits (a user id or a count needs far fewer).
MAX_NUMBER_DIGITS = 40
#: Longest categorical value, in characters (Criteo's are 8 hexadecimal digits).
MAX_CATEGORY_LENGTH = 256
#: Longest user id of a top-k request, in characters (the answer repeats it).
MAX_USER_ID_LENGTH = 256
#: Most characters of a client's field name an error body repeats (then "...").
MAX_ECHO_CHARS = 100


def echoed(name: str) -> str:
    """A client's field name as an error body repeats it: at most :data:`MAX_ECHO_CHARS`
    characters, so that no answer grows with what the client sent.

    >>> echoed("cat00"), len(echoed("x" * 10_000))
    ('cat00', 103)
    """
    return name if len(name) <= MAX_ECHO_CHARS else name[:MAX_ECHO_CHARS] + "..."


# strict: an integer is a number, "3" is not; NaN and infinities are refused
#: The error messages both servers write (the Spark one in SQL).
EMPTY_BODY = "empty request body: send JSON with Content-Type: application/json"
SCHEMA_MISMATCH = "the request does not match the schema"
TOO_MANY_ROWS = f"too many rows: at most {MAX_ROWS:,} per request, split the batch"


def body_too_large() -> str:
    """The message of a body over :data:`MAX_BODY_BYTES`."""
    return f"request body over {MAX_BODY_BYTES:,} bytes: split the batch"


_Number = Annotated[StrictFloat, AllowInfNan(False)] | None
_Category = Annotated[StrictStr, StringConstraints(max_length=MAX_CATEGORY_LENGTH)] | None


class RequestError(RecommendersKitError, ValueError):
    """A request the service refuses: HTTP ``status`` (4xx), a message and per-field
    ``details`` (``[{"field": ..., "problem": ...}]``); :meth:`body` is the error body."""

    def __init__(self, status: int, message: str, details: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []

    def body(self) -> dict[str, Any]:
        """The documented JSON error body: ``{"error": ..., "details": [...]}``."""
        body: dict[str, Any] = {"error": self.message}
        if self.details:
            body["details"] = self.details
        return body


def parse_body(raw: str | bytes) -> Any:
    """The JSON value of a request body, within the limits above, or :class:`RequestError`.

    >>> parse_body('{"user_id": 196, "k": 10}')
    {'user_id': 196, 'k': 10}
    >>> parse_body("[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    ...
    recommenders_kit.serving.schema.RequestError: JSON nested too deeply
    """
    if not raw or not raw.strip():
        raise RequestError(400, EMPTY_BODY)
    check_body_size(len(raw))
    try:
        value = json.loads(raw, parse_int=_integer)
    except RecursionError:  # Python's parser stops at about 1,000 levels
        raise RequestError(400, "JSON nested too deeply") from None
    except (ValueError, TypeError) as e:  # JSONDecodeError, a too long number, bad bytes
        raise RequestError(400, f"malformed JSON: {e}") from None
    return value


def check_body_size(size: int) -> None:
    """A body of ``size`` bytes over :data:`MAX_BODY_BYTES` is a :class:`RequestError` (413)."""
    if size > MAX_BODY_BYTES:
        raise RequestError(413, body_too_large())


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS + 1:  # + 1: a minus sign
        raise InputError(f"an integer of {len(text):,} characters (at most {MAX_NUMBER_DIGITS})")
    return int(text)


def request_rows(features: Any) -> list[dict[str, Any]]:
    """The rows of a click request for a pandas frame of model inputs: one dict per row, in
    JSON's types, ``None`` (JSON ``null``) for a missing value.

    >>> import pandas as pd
    >>> request_rows(pd.DataFrame({"int00": [3.0, None], "cat00": ["68fd1e64", None]}))
    [{'int00': 3.0, 'cat00': '68fd1e64'}, {'int00': None, 'cat00': None}]
    """
    return json.loads(
        features.astype(object).where(features.notna(), None).to_json(orient="records")
    )


def click_request_model(numeric: list[str], categorical: list[str]) -> type[BaseModel]:
    """The request model for a click model with these input features."""
    fields: dict[str, Any] = dict.fromkeys(numeric, (_Number, ...))
    fields.update(dict.fromkeys(categorical, (_Category, ...)))
    row: Any = create_model("Row", __config__=ConfigDict(extra="forbid"), **fields)
    return create_model(
        "ClickRequest",
        __config__=ConfigDict(extra="forbid"),
        rows=(Annotated[list[row], Field(min_length=1, max_length=MAX_ROWS)], ...),
    )


class ClickResponse(BaseModel):
    probabilities: list[float]
    model_version: str


#: Where a top-k answer came from (see the module docstring).
Source = Literal["personal", "popular", "fallback"]


class TopKRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: StrictStr | StrictInt
    k: Annotated[StrictInt, Field(ge=1, le=MAX_K)] = 10

    @field_validator("user_id")
    @classmethod
    def _not_too_long(cls, user_id: str | int) -> str | int:
        if isinstance(user_id, str) and len(user_id) > MAX_USER_ID_LENGTH:
            raise InputError(f"a user id has at most {MAX_USER_ID_LENGTH} characters")
        return user_id


class Item(BaseModel):
    itemId: StrictStr | StrictInt  # noqa: N815 - the documented JSON field
    score: float
    rank: int


class TopKResponse(BaseModel):
    user_id: str
    model_version: str
    source: Source
    items: list[Item]
