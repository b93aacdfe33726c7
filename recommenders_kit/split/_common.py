"""Argument checks and split arithmetic shared by the pandas and Spark splitters (internal).

Per-group splits cut a group of ``n`` rows at ``floor(c_j * n + 0.5)`` for each cumulative
share ``c_j``, in both engines, so that they give the same number of rows per split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from recommenders_kit._validate import require_choice
from recommenders_kit.errors import InputError, InputTypeError


def cumulative_shares(ratio: float | Sequence[float]) -> list[float]:
    """Cumulative split shares for ``ratio``: a float in (0, 1), or a list of weights.

    >>> cumulative_shares(0.75)
    [0.75, 1.0]
    >>> cumulative_shares([2, 1, 1])
    [0.5, 0.75, 1.0]
    """
    if isinstance(ratio, bool):
        raise InputTypeError("ratio must be a float or a list of floats, got bool")
    if isinstance(ratio, (int, float)):
        if not 0 < ratio < 1 or math.isnan(ratio):
            raise InputError(f"ratio must be in (0, 1), got {ratio}")
        return [float(ratio), 1.0]
    try:
        weights = [float(w) for w in ratio]
    except (TypeError, ValueError) as e:
        raise InputTypeError(f"ratio must be a float or a list of floats, got {ratio!r}") from e
    if len(weights) < 2:
        raise InputError(f"ratio as a list needs at least 2 weights, got {weights}")
    if any(w <= 0 or math.isnan(w) for w in weights):
        raise InputError(f"ratio weights must all be > 0, got {weights}")
    total = sum(weights)
    shares, running = [], 0.0
    for w in weights[:-1]:
        running += w / total
        shares.append(running)
    return shares + [1.0]


def group_split_args(
    ratio: float | Sequence[float], min_rating: int, filter_by: str, col_user: str, col_item: str
) -> tuple[list[float], str]:
    """Check the arguments of a per-group splitter; return (cumulative shares, group column)."""
    shares = cumulative_shares(ratio)
    require_choice(filter_by, ("user", "item"), "filter_by")
    if isinstance(min_rating, bool) or not isinstance(min_rating, int) or min_rating < 1:
        raise InputError(f"min_rating must be an int >= 1, got {min_rating!r}")
    return shares, col_user if filter_by == "user" else col_item
