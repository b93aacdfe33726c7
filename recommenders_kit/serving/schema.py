"""Request and response schemas of the scoring service (pydantic), and its limits.

Two request kinds, one per model kind:

* click probability (``lightgbm-click``)::

    {"rows": [{"int00": 1, ..., "int12": null, "cat00": "68fd1e64", ..., "cat25": null}]}

  every row names every feature of the model (``null`` for a missing value); numbers for the
  numeric features, strings for the categorical ones; at most :data:`MAX_ROWS` rows.
  Answer: ``{"probabilities": [0.21, ...], "model_version": "..."}``.

* top-k lookup (``als-topk``): ``{"user_id": 196, "k": 10}`` with ``1 <= k <=`` :data:`MAX_K`.
  Answer: ``{"user_id": "196", "model_version": "...", "source": "personal" | "popular",
  "items": [{"itemId": 50, "score": 0.93, "rank": 1}, ...]}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, create_model

#: Most rows accepted in one click-scoring request (larger batches: split them, or score
#: offline with the library).
MAX_ROWS = 10_000
#: Largest ``k`` of a top-k request.
MAX_K = 100

_Number = StrictFloat | None  # strict: an integer is a number, "3" is not
_Category = StrictStr | None


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


class TopKRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: StrictStr | StrictInt
    k: Annotated[StrictInt, Field(ge=1, le=MAX_K)] = 10


class Item(BaseModel):
    itemId: StrictStr | StrictInt  # noqa: N815 - the documented JSON field
    score: float
    rank: int


class TopKResponse(BaseModel):
    user_id: str
    model_version: str
    source: Literal["personal", "popular"]
    items: list[Item]
