"""Read delimited data files fast, and explain a bad file by file and line (internal).

The fast path is pandas' C parser. When it fails, a second, slow pass walks the file line
by line to find the first offending line and raises a ``ValueError`` that names the file,
the line number, the field and the line itself: a user fixing a file needs exactly that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommenders_kit.errors import InputError

_INT_KINDS = {"int8", "int16", "int32", "int64", "Int8", "Int16", "Int32", "Int64"}
_FLOAT_KINDS = {"float32", "float64", "Float32", "Float64"}
_OVERFLOW = "__overflow__"
#: narrow integer kinds are parsed as 64-bit and range-checked: the C parser wraps a value too
#: large for them (3000000000 as int32 reads as -1294967296)
_PARSED_AS = {"int8": "int64", "int16": "int64", "int32": "int64"}
_PARSED_AS |= {"Int8": "Int64", "Int16": "Int64", "Int32": "Int64"}


def read_delimited(
    path: Path,
    *,
    sep: str,
    names: Sequence[str],
    dtypes: Mapping[str, str],
    header: bool = False,
    encoding: str = "utf-8",
    allow_short_rows: bool = False,
    usecols: Sequence[str] | None = None,
    nrows: int | None = None,
    finite: Sequence[str] = (),
) -> pd.DataFrame:
    """Read ``path`` whose fields are ``names`` (all of them, in order), keep ``usecols``.

    Args:
        sep: field separator; ``"::"`` is read with the C parser by splitting on ``":"``
            (valid only when no field contains a colon, as in MovieLens rating files).
        dtypes: pandas dtype per column name; integer columns must parse as integers within
            their type's range.
        header: the first line is a header and is skipped.
        allow_short_rows: rows with fewer fields are padded with missing values (Criteo
            files whose trailing empty fields were stripped); more fields is always an error.
        finite: float columns whose every value must be a finite number (no ``nan``, ``inf``
            or empty field): a rating, say.
    """
    usecols = list(usecols or names)
    checks = (path, sep, names, dtypes, header, encoding, allow_short_rows, finite)
    parsed = {c: _PARSED_AS.get(str(t), t) for c, t in dtypes.items()}
    kwargs: dict[str, Any] = {
        "header": None,
        "skiprows": 1 if header else None,
        "encoding": encoding,
        "dtype": parsed,
        "nrows": nrows,
    }
    # One sentinel column past the last field catches rows with too many fields, which the
    # C parser would otherwise drop silently. (``usecols`` cannot be combined with it: the
    # parser then rejects files in which no row reaches the sentinel.)
    if sep == "::":
        wide = [f"_{i}" for i in range(2 * len(names))] + [_OVERFLOW]
        positions = {wide[2 * names.index(c)]: c for c in usecols}
        kwargs["dtype"] = {wide[2 * names.index(c)]: t for c, t in parsed.items()}
        kwargs.update(sep=":", names=wide)
    else:
        positions = {c: c for c in usecols}
        kwargs.update(sep=sep, names=[*names, _OVERFLOW], quoting=3)
    try:
        frame = pd.read_csv(path, engine="c", index_col=False, **kwargs)
    except (ValueError, pd.errors.ParserError, OverflowError) as error:
        _raise_first_bad_line(*checks, error)
        raise  # the diagnostic pass found nothing more precise to say
    if frame[_OVERFLOW].notna().any():
        _raise_first_bad_line(*checks, None)
    frame = frame[list(positions)].set_axis(usecols, axis=1)
    if not allow_short_rows and len(frame):
        required = [c for c in usecols if not str(dtypes.get(c, "")).startswith(("I", "F"))]
        short = frame[required].isna().any(axis=1) if required else None
        if short is not None and short.any():
            _raise_first_bad_line(*checks, None)
    for column in usecols:
        kind = str(dtypes.get(column, ""))
        if kind in _PARSED_AS:
            info = np.iinfo(kind.lower())
            values = frame[column]
            if ((values < info.min) | (values > info.max)).any():
                _raise_first_bad_line(*checks, None)
            frame[column] = values.astype(kind)
        elif column in finite and not np.isfinite(frame[column].to_numpy(float)).all():
            _raise_first_bad_line(*checks, None)
    return frame[usecols]


def _raise_first_bad_line(
    path: Path,
    sep: str,
    names: Sequence[str],
    dtypes: Mapping[str, str],
    header: bool,
    encoding: str,
    allow_short_rows: bool,
    finite: Sequence[str],
    error: Exception | None,
) -> None:
    with open(path, encoding=encoding, newline="") as f:
        for number, raw in enumerate(f, start=1):
            if header and number == 1:
                continue
            line = raw.rstrip("\r\n")
            problem: str | None = "is empty"
            if line or allow_short_rows:
                problem = _line_problem(line.split(sep), names, dtypes, allow_short_rows, finite)
            if problem:
                raise InputError(
                    f"{path}, line {number}: {problem} (separator {sep!r}): {line[:200]!r}"
                ) from error


def _line_problem(
    fields: list[str],
    names: Sequence[str],
    dtypes: Mapping[str, str],
    allow_short: bool,
    finite: Sequence[str],
) -> str | None:
    if len(fields) > len(names) or (len(fields) < len(names) and not allow_short):
        return f"expected {len(names)} fields, found {len(fields)}"
    for name, value in zip(names, fields, strict=False):
        kind = str(dtypes.get(name, "object"))
        if value == "":
            if name in finite or (kind in _INT_KINDS and not kind[0].isupper()):
                return f"field {name!r} is empty"
            continue
        try:
            if kind in _INT_KINDS:
                info = np.iinfo(kind.lower())
                if not info.min <= int(value) <= info.max:
                    return f"field {name!r} = {value!r} is out of the {kind} range"
            elif kind in _FLOAT_KINDS and not math.isfinite(float(value)) and name in finite:
                return f"field {name!r} = {value!r} is not a finite number"
        except ValueError:
            return f"field {name!r} = {value!r} is not a valid {kind}"
    return None
