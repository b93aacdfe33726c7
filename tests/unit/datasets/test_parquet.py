"""ParquetRows: row order across files and row groups, row ranges, and every bad file named
before a row is read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets.parquet import ParquetRows


@pytest.fixture
def folder(tmp_path):
    """Three files of 5, 7 and 4 rows; the second in row groups of 3 (3 + 3 + 1)."""
    start = 0
    for i, (n, group) in enumerate([(5, None), (7, 3), (4, None)]):
        frame = pd.DataFrame({"x": np.arange(start, start + n), "s": [f"v{j}" for j in range(n)]})
        frame.to_parquet(tmp_path / f"part-{i}.parquet", row_group_size=group, index=False)
        start += n
    return tmp_path


def test_rows_in_order_across_files_and_row_groups(folder):
    rows = ParquetRows(folder)
    assert len(rows) == 16
    assert rows.columns == ["x", "s"]
    assert [len(p) for p in rows.pieces()] == [5, 3, 3, 1, 4]
    blocks = list(rows.blocks())
    assert pd.concat(blocks)["x"].tolist() == list(range(16))
    assert pd.concat(blocks).index.tolist() == list(range(16))  # the row numbers
    np.testing.assert_array_equal(rows.column("x"), np.arange(16))


@pytest.mark.parametrize(("start", "stop"), [(0, 16), (2, 9), (5, 6), (6, 16), (7, 7), (15, 16)])
def test_a_slice_reads_exactly_its_rows(folder, start, stop):
    rows = ParquetRows(folder, columns=["x"])
    part = rows.slice(start, stop)
    assert len(part) == stop - start
    assert part.column("x").tolist() == list(range(start, stop))
    assert all(list(b.columns) == ["x"] for b in part.blocks())
    # a slice of a slice counts from its own first row
    if stop - start >= 2:
        assert part.slice(1, 2).column("x").tolist() == [start + 1]


def test_a_list_of_files_keeps_its_order(folder):
    files = sorted(folder.glob("*.parquet"))
    rows = ParquetRows([files[2], files[0]], columns=["x"])
    assert rows.column("x").tolist() == [12, 13, 14, 15, 0, 1, 2, 3, 4]


def test_bad_files_are_named_before_any_row_is_read(folder):
    good = sorted(folder.glob("*.parquet"))
    with pytest.raises(FileNotFoundError, match="nope.parquet: no such parquet file"):
        ParquetRows([good[0], folder / "nope.parquet"])
    empty = folder / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="holds no"):
        ParquetRows(empty)
    # a file cut short while being copied: its footer is gone
    truncated = folder / "part-9.parquet"
    truncated.write_bytes(good[1].read_bytes()[:200])
    with pytest.raises(ValueError, match="part-9.parquet: not a readable parquet file"):
        ParquetRows(folder)
    truncated.unlink()
    # a file whose column holds numbers where the first file's holds strings
    pd.DataFrame({"x": [1], "s": [3.5]}).to_parquet(folder / "part-8.parquet")
    with pytest.raises(ValueError, match=r"part-8.parquet: column 's' holds number values, but"):
        ParquetRows(folder)
    # ... and one without a column the reader needs
    (folder / "part-8.parquet").unlink()
    pd.DataFrame({"x": [1]}).to_parquet(folder / "part-8.parquet")
    with pytest.raises(ValueError, match=r"part-8.parquet is missing column\(s\) \['s'\]"):
        ParquetRows(folder)
    assert len(ParquetRows(folder, columns=["x"])) == 17  # x alone is in every file
    with pytest.raises(ValueError, match="outside the 17 rows"):
        ParquetRows(folder, columns=["x"]).slice(3, 18)


def test_integer_and_float_files_mix_and_dictionary_strings_match_plain_ones(tmp_path):
    pd.DataFrame({"x": [1, 2], "s": ["a", "b"]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"x": [1.5, None], "s": pd.Categorical(["a", None])}).to_parquet(
        tmp_path / "b.parquet"
    )
    rows = ParquetRows(tmp_path)
    assert rows.column("x").tolist()[:3] == [1, 2, 1.5]
