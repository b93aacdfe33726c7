"""Criteo loaders on the real 1,000-row extract (with its stripped trailing fields)."""

from __future__ import annotations

import pandas as pd
import pytest

from recommenders_kit.datasets import criteo
from tests.support.data import read_shared, shared


@pytest.fixture(scope="module")
def real():
    return criteo.load_pandas_df("sample")


def test_real_rows_parse_into_40_typed_columns(real):
    assert real.shape == (1000, 40)
    assert list(real.columns) == ["label", *criteo.INT_COLS, *criteo.CAT_COLS]
    assert real["label"].sum() == 205
    assert str(real["label"].dtype) == "int8"
    assert all(str(real[c].dtype) == "Int64" for c in criteo.INT_COLS)
    first = real.iloc[0]
    assert (
        first[criteo.INT_COLS].tolist()[:12] == [1, 1, 5, 0, 1382, 4, 15, 2, 181, 1, 2, pd.NA][:12]
    )
    assert pd.isna(first["int11"])
    assert first["cat00"] == "68fd1e64"


def test_stripped_trailing_fields_are_missing_not_errors(real):
    lines = read_shared("criteo/train_head.txt").decode().split("\n")
    short = [i for i, line in enumerate(lines) if line.count("\t") < 39]
    assert len(short) == 498  # as documented for this extract
    assert real.iloc[short][criteo.CAT_COLS[-1]].isna().all()
    full = [i for i, line in enumerate(lines) if line.count("\t") == 39 and line.split("\t")[-1]]
    assert real.iloc[full][criteo.CAT_COLS[-1]].notna().all()


def test_values_match_an_independent_parse(real):
    lines = read_shared("criteo/train_head.txt").decode().split("\n")
    for row, line in zip(real.itertuples(index=False), lines, strict=True):
        fields = line.split("\t") + [""] * (40 - len(line.split("\t")))
        expected = (
            [int(fields[0])]
            + [int(f) if f else None for f in fields[1:14]]
            + [f or None for f in fields[14:]]
        )
        got = [None if pd.isna(v) else v for v in row]
        assert got == expected


def test_too_many_fields_is_an_error_naming_the_line(tmp_path):
    lines = read_shared("criteo/train_head.txt").decode().split("\n")[:10]
    lines[6] = lines[6] + "\t" * (40 - lines[6].count("\t")) + "extra"
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines))
    with pytest.raises(ValueError, match=r"bad\.txt, line 7: expected 40 fields, found 41"):
        criteo.read_file(path)


def test_label_must_be_zero_or_one(tmp_path):
    lines = read_shared("criteo/train_head.txt").decode().split("\n")[:5]
    lines[3] = "2" + lines[3][1:]
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines))
    with pytest.raises(ValueError, match=r"line 4: label 2 is not 0 or 1"):
        criteo.read_file(path)


def test_nrows_and_bad_arguments():
    assert len(criteo.read_file(shared("criteo/train_head.txt"), nrows=10)) == 10
    with pytest.raises(ValueError, match=r"size must be one of \['sample', 'full'\]"):
        criteo.load_pandas_df("medium")
    with pytest.raises(ValueError, match="header must name 40"):
        criteo.read_file(shared("criteo/train_head.txt"), header=["label"])
