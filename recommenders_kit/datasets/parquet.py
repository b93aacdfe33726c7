"""Parquet files read as one table, a block of rows at a time: data bigger than memory.

:class:`ParquetRows` takes a folder of ``*.parquet`` files (read in name order), one file, or
a list of files (read in the given order), and reads every file's footer before any row:
a file that is missing, is not parquet (truncated while being copied, say), lacks a column or
holds a column of another kind than the first file's stops at once with an error that names
the file and the column - not hours later, in the middle of training.

Rows keep their order across files. :meth:`ParquetRows.slice` narrows to a row range without
reading anything; :meth:`ParquetRows.blocks` yields that range as pandas frames of at most one
row group each, so the memory a pass needs is one row group, whatever the total.

Example:
    >>> import tempfile, pandas as pd
    >>> folder = tempfile.mkdtemp()
    >>> for i in range(3):
    ...     pd.DataFrame({"x": [i, i], "y": ["a", "b"]}).to_parquet(f"{folder}/part-{i}.parquet")
    >>> rows = ParquetRows(folder, columns=["x"])
    >>> len(rows), [block["x"].tolist() for block in rows.slice(1, 5).blocks()]
    (6, [[0], [1, 1], [2]])
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_columns
from recommenders_kit.errors import InputError, MissingResourceError

#: What names parquet files: a folder, a file, or a list of files.
Source: TypeAlias = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


@dataclass(frozen=True)
class Piece:
    """Rows ``[lo, hi)`` of one row group of one file; ``start``: the first one's row number
    in the whole table."""

    path: Path
    row_group: int
    lo: int
    hi: int
    start: int

    def __len__(self) -> int:
        return self.hi - self.lo


class ParquetRows:
    """The rows of parquet files, in order, read a row group at a time (module docstring).

    Args:
        source: a folder (its ``*.parquet`` files by name), a file, or a list of files.
        columns: the columns to read; each must be in every file, with the same kind
            (number, string, boolean, ...) in all of them. Default: the first file's.
    """

    def __init__(self, source: Source, columns: Sequence[str] | None = None):
        self.files = resolve_files(source)
        kinds = _column_kinds(self.files[0])
        self.columns = list(columns) if columns is not None else list(kinds)
        require_columns(kinds, self.columns, str(self.files[0]))
        self._pieces: list[Piece] = []
        total = 0
        for path in self.files:
            mine = _column_kinds(path) if path != self.files[0] else kinds
            _check_like_first(path, mine, self.files[0], kinds, self.columns)
            for group, n in enumerate(_row_group_sizes(path)):
                self._pieces.append(Piece(path, group, 0, n, total))
                total += n
        self._range = (0, total)

    def __len__(self) -> int:
        return self._range[1] - self._range[0]

    def __repr__(self) -> str:
        return f"ParquetRows({len(self.files)} files, rows {self._range[0]}..{self._range[1]})"

    @property
    def row_range(self) -> tuple[int, int]:
        """``(first, end)``: the rows of the whole table this range covers."""
        return self._range

    def slice(self, start: int, stop: int) -> ParquetRows:
        """The rows ``[start, stop)`` of this range (numbered from its first row), unread."""
        lo, hi = self._range
        if not 0 <= start <= stop <= hi - lo:
            raise InputError(f"row range [{start}, {stop}) is outside the {hi - lo} rows")
        view = object.__new__(ParquetRows)
        view.files, view.columns, view._pieces = self.files, self.columns, self._pieces
        view._range = (lo + start, lo + stop)
        return view

    def pieces(self) -> list[Piece]:
        """The row-group pieces covering this range, in order (the unit of every read)."""
        lo, hi = self._range
        out = []
        for p in self._pieces:
            a, b = max(lo, p.start), min(hi, p.start + len(p))
            if a < b:
                out.append(Piece(p.path, p.row_group, p.lo + a - p.start, p.lo + b - p.start, a))
        return out

    def blocks(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """This range as pandas frames, one per row-group piece (index: row numbers)."""
        for piece in self.pieces():
            yield self.read(piece, columns)

    def read(self, piece: Piece, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One piece as a pandas frame (categorical columns stay ``category``)."""
        import pyarrow.parquet as pq

        cols = list(columns) if columns is not None else self.columns
        try:
            table = pq.ParquetFile(piece.path).read_row_group(piece.row_group, columns=cols)
        except Exception as error:  # noqa: BLE001 - pyarrow raises several types for bad pages
            raise InputError(
                f"{piece.path}: row group {piece.row_group} unreadable: {error}"
            ) from error
        frame = table.slice(piece.lo, len(piece)).to_pandas()
        frame.index = pd.RangeIndex(piece.start, piece.start + len(piece))
        return frame

    def column(self, name: str, dtype: Any = None) -> np.ndarray:
        """One column of this range as a numpy array (a label column, say)."""
        parts = [block[name].to_numpy(dtype=dtype) for block in self.blocks([name])]
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def resolve_files(source: Source) -> list[Path]:
    """The parquet files of ``source`` (see :class:`ParquetRows`), each checked to exist."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            files = sorted(path.glob("*.parquet"))
            if not files:
                raise MissingResourceError(f"{path} holds no *.parquet files")
            return files
        files = [path]
    else:
        files = [Path(p) for p in source]
        if not files:
            raise InputError("source is an empty list of files")
    for path in files:
        if not path.is_file():
            raise MissingResourceError(f"{path}: no such parquet file")
    return files


def _column_kinds(path: Path) -> dict[str, str]:
    """Column name -> kind (``number``, ``string``, ``bool`` or Arrow's type name)."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as error:  # noqa: BLE001 - ArrowInvalid, OSError: not a parquet file
        raise InputError(f"{path}: not a readable parquet file ({error})") from error
    return {field.name: _kind(field.type) for field in schema}


def _row_group_sizes(path: Path) -> list[int]:
    import pyarrow.parquet as pq

    metadata = pq.read_metadata(path)
    return [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]


def _kind(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "number"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    return str(arrow_type)


def _check_like_first(
    path: Path, kinds: dict[str, str], first: Path, first_kinds: dict[str, str], columns: list[str]
) -> None:
    """``ValueError`` naming ``path`` when it lacks a column or holds another kind."""
    require_columns(kinds, columns, str(path))
    for col in columns:
        if kinds[col] != first_kinds[col]:
            raise InputError(
                f"{path}: column {col!r} holds {kinds[col]} values, "
                f"but {first.name} (the first file) holds {first_kinds[col]}"
            )
