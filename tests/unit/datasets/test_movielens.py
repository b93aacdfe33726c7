"""MovieLens loaders on the real files, served as archives by the loopback mirror."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets import download as dl
from recommenders_kit.datasets import movielens
from tests.support.data import read_shared, sha256, zip_bytes
from tests.support.http_server import FileServer


def test_100k_has_the_published_shape(ml100k):
    assert ml100k.shape == (100_000, 4)
    assert list(ml100k.columns) == ["userID", "itemID", "rating", "timestamp"]
    assert ml100k["userID"].nunique() == 943
    assert ml100k["itemID"].nunique() == 1682
    assert sorted(ml100k["rating"].unique()) == [1, 2, 3, 4, 5]
    assert ml100k.iloc[0].tolist() == [196, 242, 3, 881250949]  # first row of u.data
    assert str(ml100k["userID"].dtype) == "int32"
    assert str(ml100k["timestamp"].dtype) == "int64"


def test_100k_custom_header_and_fewer_columns():
    df = movielens.load_pandas_df("100k", header=["u", "i", "r"])
    assert list(df.columns) == ["u", "i", "r"]
    assert len(df) == 100_000


def test_100k_titles_genres_and_years():
    df = movielens.load_pandas_df("100k", col_title="title", col_genres="genres", col_year="year")
    first = df.iloc[0]
    assert (first["title"], first["genres"], first["year"]) == ("Kolya (1996)", "Comedy", 1996)
    items = movielens.load_item_df("100k")
    assert len(items) == 1682
    toy = items.set_index("itemID").loc[1]
    assert toy["title"] == "Toy Story (1995)"
    assert toy["genres"] == "Animation|Children's|Comedy"
    assert toy["year"] == 1995
    # u.item has a placeholder row 267 "unknown" without a date, and one title lacks a year
    assert items["year"].isna().sum() == 2
    assert items["title"].str.contains("é").any(), "latin-1 titles must decode"


def test_1m_double_colon_format_and_latin1_movies():
    df = movielens.load_pandas_df("1m", col_title="title", col_year="year")
    assert len(df) == 487_650
    assert df["userID"].nunique() == 2999
    assert df.iloc[0][["userID", "itemID", "rating", "timestamp"]].tolist() == [
        1,
        1193,
        5,
        978300760,
    ]
    assert df.iloc[0]["title"] == "One Flew Over the Cuckoo's Nest (1975)"
    items = movielens.load_item_df("1m")
    assert len(items) == 3883
    assert items["itemID"].is_unique
    assert items.set_index("itemID").loc[1, "genres"] == "Animation|Children's|Comedy"


def test_csv_format_with_header_and_half_stars():
    # The ml-20m archive layout, filled with the real ml-latest-small csv files (CRLF endings).
    df = movielens.load_pandas_df("20m", col_genres="genres")
    assert len(df) == 100_836
    assert df["userID"].nunique() == 610
    assert set(np.unique(df["rating"])) == {x / 2 for x in range(1, 11)}
    assert df["genres"].notna().all()
    items = movielens.load_item_df("20m")
    assert len(items) == 9742
    assert items["year"].notna().mean() > 0.99


def test_unknown_size_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"size must be one of \['100k', '1m'"):
        movielens.load_pandas_df("5k")


@pytest.mark.parametrize("header", [["u"], ["a", "b", "c", "d", "e"], ["a", "a"]])
def test_bad_header(header):
    with pytest.raises(ValueError, match="header"):
        movielens.load_pandas_df("100k", header=header)


@pytest.fixture
def serve_100k_variant(monkeypatch, tmp_path):
    """Serve an ml-100k.zip whose u.data is replaced, with a registry entry for it."""

    def serve(u_data: bytes):
        archive = zip_bytes(
            {
                "ml-100k/u.data": u_data,
                "ml-100k/u.item": read_shared("movielens/ml-100k/u.item"),
                "ml-100k/u.genre": read_shared("movielens/ml-100k/u.genre"),
            }
        )
        server = FileServer({"ml-100k.zip": archive}).__enter__()
        monkeypatch.setenv(dl.MIRROR_ENV, server.url)
        monkeypatch.setenv(dl.CACHE_ENV, str(tmp_path / "cache"))
        monkeypatch.setitem(
            movielens.DATASETS,
            "100k",
            dataclasses.replace(movielens.DATASETS["100k"], sha256=sha256(archive)),
        )
        return server

    return serve


def test_malformed_row_names_file_and_line(serve_100k_variant):
    rows = read_shared("movielens/ml-100k/u.data").split(b"\n")
    rows[41] = b"1\t2\tthree\t4"
    serve_100k_variant(b"\n".join(rows))
    with pytest.raises(ValueError, match=r"u\.data, line 42: field 'rating' = 'three'"):
        movielens.load_pandas_df("100k")


def test_wrong_column_count_names_file_and_line(serve_100k_variant):
    serve_100k_variant(b"1\t2\t3\t4\n5\t6\t7\n")
    with pytest.raises(ValueError, match=r"u\.data, line 2: expected 4 fields, found 3"):
        movielens.load_pandas_df("100k")


def test_truncated_archive_is_an_error_and_is_not_kept(monkeypatch, tmp_path):
    archive = read_shared("movielens/ml-100k/u.data")  # not even a zip
    truncated = zip_bytes({"ml-100k/u.data": archive})[:-3000]
    with FileServer({"ml-100k.zip": truncated}) as server:
        monkeypatch.setenv(dl.MIRROR_ENV, server.url)
        monkeypatch.setenv(dl.CACHE_ENV, str(tmp_path))
        monkeypatch.setitem(
            movielens.DATASETS,
            "100k",
            dataclasses.replace(movielens.DATASETS["100k"], sha256=sha256(truncated)),
        )
        with pytest.raises(dl.ArchiveError, match="ml-100k.zip is truncated or corrupt"):
            movielens.load_pandas_df("100k")
    assert not (tmp_path / "ml-100k.zip").exists()


def test_offline_with_archive_in_cache_loads(monkeypatch, tmp_path, archives):
    monkeypatch.setenv(dl.CACHE_ENV, str(tmp_path))
    monkeypatch.setenv(dl.OFFLINE_ENV, "1")
    with pytest.raises(dl.OfflineError, match=str(tmp_path / "ml-100k.zip")):
        movielens.load_pandas_df("100k")
    (tmp_path / "ml-100k.zip").write_bytes(archives["ml-100k.zip"])
    assert len(movielens.load_pandas_df("100k")) == 100_000


def test_pandas_frame_equals_the_raw_file(ml100k):
    raw = pd.read_csv(
        pd.io.common.BytesIO(read_shared("movielens/ml-100k/u.data")), sep="\t", header=None
    )
    np.testing.assert_array_equal(ml100k.to_numpy(dtype="int64"), raw.to_numpy(dtype="int64"))


def test_extracted_files_in_the_cache_are_used_offline(monkeypatch, tmp_path):
    from tests.support.data import seed_movielens_100k

    monkeypatch.setenv(dl.OFFLINE_ENV, "1")
    seed_movielens_100k(tmp_path)
    df = movielens.load_pandas_df("100k", col_title="title", local_cache_path=tmp_path)
    assert len(df) == 100_000
    assert not (tmp_path / "ml-100k.zip").exists()


def test_import_an_archive_fetched_elsewhere(tmp_path, archives):
    archive = tmp_path / "downloads" / "ml-100k.zip"
    archive.parent.mkdir()
    archive.write_bytes(archives["ml-100k.zip"])
    files = movielens.import_archive("100k", archive, tmp_path / "cache")
    assert files["ratings"] == tmp_path / "cache" / "ml-100k" / "u.data"
    assert len(files["ratings"].read_text().splitlines()) == 100_000
    assert (tmp_path / "cache" / "ml-100k.zip").read_bytes() == archives["ml-100k.zip"]
