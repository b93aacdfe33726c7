"""read_delimited: what it reads, and the file, line and field of what it refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets._reader import read_delimited
from recommenders_kit.errors import InputError

NAMES = ["user", "item", "rating", "stamp"]
DTYPES = {"user": "int32", "item": "int32", "rating": "float32", "stamp": "int64"}


def _read(tmp_path, rows: list[str], **kw):
    path = tmp_path / "ratings.tsv"
    path.write_text("".join(f"{row}\n" for row in rows))
    return path, read_delimited(path, sep="\t", names=NAMES, dtypes=DTYPES, **kw)


def test_reads_types_and_extremes(tmp_path):
    top = np.iinfo("int32").max
    _, frame = _read(tmp_path, ["1\t2\t3.5\t10", f"{top}\t-5\t1\t{2**63 - 1}"], finite=["rating"])
    assert frame.dtypes.astype(str).tolist() == ["int32", "int32", "float32", "int64"]
    assert frame.user.tolist() == [1, top]
    assert frame.stamp.tolist() == [10, 2**63 - 1]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("3000000000\t2\t3\t10", "field 'user' = '3000000000' is out of the int32 range"),
        ("-2147483649\t2\t3\t10", "field 'user' = '-2147483649' is out of the int32 range"),
        (f"1\t2\t3\t{10**21}", f"field 'stamp' = '{10**21}' is out of the int64 range"),
        (f"{10**21}\t2\t3\t10", f"field 'user' = '{10**21}' is out of the int32 range"),
        ("1\t2\tnan\t10", "field 'rating' = 'nan' is not a finite number"),
        ("1\t2\t-inf\t10", "field 'rating' = '-inf' is not a finite number"),
        ("1\t2\t\t10", "field 'rating' is empty"),
        ("1\t2\tthree\t10", "field 'rating' = 'three' is not a valid float32"),
    ],
)
def test_the_first_bad_line_is_named(tmp_path, row, problem):
    """A value the C parser would wrap (a too large int32), overflow or read as NaN is an
    error naming the file, line and field, not a wrong number."""
    path = tmp_path / "ratings.tsv"
    with pytest.raises(InputError) as raised:
        _read(tmp_path, ["1\t1\t4\t1", row, "2\t2\t5\t2"], finite=["rating"])
    assert str(raised.value) == f"{path}, line 2: {problem} (separator '\\t'): {row!r}"


def test_nan_is_a_missing_value_where_not_required_finite(tmp_path):
    _, frame = _read(tmp_path, ["1\t2\tnan\t10", "1\t3\t\t11"])
    assert frame.rating.isna().tolist() == [True, True]
    pd.testing.assert_series_equal(frame.item, pd.Series([2, 3], dtype="int32", name="item"))
