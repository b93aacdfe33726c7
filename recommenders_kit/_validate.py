"""Input checks shared by the pandas and Spark code paths (internal).

Public functions call these at their edge so that a bad argument fails with a message that
names the parameter or the column; the internals then trust their inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from recommenders_kit.errors import InputError, InputTypeError

if TYPE_CHECKING:
    import numpy as np


def require_columns(columns: Iterable[str], required: Sequence[str], frame_name: str) -> None:
    """Raise ``ValueError`` naming every column of ``required`` missing from ``columns``."""
    present = set(columns)
    missing = [c for c in required if c not in present]
    if missing:
        raise InputError(f"{frame_name} is missing column(s) {missing}; it has {sorted(present)}")


def require_pandas_frame(frame: object, columns: Sequence[str], name: str) -> None:
    """Raise ``TypeError`` unless ``frame`` is a pandas DataFrame, ``ValueError`` unless it
    has ``columns``."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputTypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    require_columns(frame.columns, columns, name)


def require_spark_frame(frame: object, columns: Sequence[str], name: str) -> None:
    """Raise ``TypeError`` unless ``frame`` is a Spark DataFrame, ``ValueError`` unless it has
    ``columns`` (pyspark is imported only here, when a Spark path is used)."""
    from pyspark.sql import DataFrame

    if not isinstance(frame, DataFrame):
        raise InputTypeError(f"{name} must be a Spark DataFrame, got {type(frame).__name__}")
    require_columns(frame.columns, columns, name)


def require_spark_ids(frame: object, columns: Sequence[str], name: str, model: str) -> None:
    """:func:`require_spark_frame`, and integer ids in the first two of ``columns`` (the user
    and the item): a clear error naming the column, not a Java one."""
    require_spark_frame(frame, columns, name)
    types = dict(frame.dtypes)  # type: ignore[attr-defined]
    for column in columns[:2]:
        if types[column] not in ("tinyint", "smallint", "int", "bigint"):
            raise InputError(
                f"{name}: column {column!r} holds {types[column]}, but {model} needs integer "
                "ids: map them to integers first"
            )


def require_choice(value: str, choices: Sequence[str], param: str) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InputError(f"{param} must be one of {list(choices)}, got {value!r}")


def require_positive_int(value: int, param: str) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``value`` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputTypeError(f"{param} must be an int, got {type(value).__name__}")
    if value < 1:
        raise InputError(f"{param} must be >= 1, got {value}")


def checked_ratings(
    frame: Any, col_user: str, col_item: str, col_rating: str | None, model: str, training: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(user ids, item ids, ratings or None) of a pandas frame of ratings, after the checks a
    bad frame fails with, each naming the column: missing columns, no rows to train on
    (``training``), ids that are not integers (``model`` needs them), NaN ratings. Without
    ``col_rating`` only the ids are read."""
    import numpy as np
    import pandas as pd

    columns = [col_user, col_item] + ([col_rating] if col_rating else [])
    require_pandas_frame(frame, columns, "data")
    if training and frame.empty:
        raise InputError("data is empty: nothing to train on")
    ids = []
    for column in (col_user, col_item):
        values = frame[column]
        if not pd.api.types.is_integer_dtype(values.dtype):
            raise InputError(
                f"column {column!r} holds {values.dtype}: {model} needs integer ids (map them "
                "to integers first)"
            )
        ids.append(values.to_numpy(dtype=np.int64))
    if not col_rating:
        return ids[0], ids[1], None
    ratings = frame[col_rating].to_numpy(dtype=np.float64)
    if np.isnan(ratings).any():
        raise InputError(f"column {col_rating!r} has {int(np.isnan(ratings).sum())} NaN values")
    return ids[0], ids[1], ratings
