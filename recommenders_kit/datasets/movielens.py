"""MovieLens ratings and movie metadata, from the official GroupLens archives.

Sizes: ``100k``, ``1m``, ``10m``, ``20m``, ``25m``, ``32m``. Each size's archive is
downloaded once into the data cache (see :mod:`recommenders_kit.datasets.download`),
checked against the checksum GroupLens publishes (``<archive>.md5``), and the rating and
movie files are extracted next to it. The file formats differ by size and are handled here:

======  =========================  ======================  ==========
size    ratings                    movies                  encoding
======  =========================  ======================  ==========
100k    ``u.data``, tab            ``u.item``, ``|``       latin-1
1m/10m  ``ratings.dat``, ``::``    ``movies.dat``, ``::``  latin-1
20m+    ``ratings.csv``, header    ``movies.csv``, header  utf-8
======  =========================  ======================  ==========

Example::

    from recommenders_kit.datasets import movielens
    df = movielens.load_pandas_df("100k", col_title="title")
    df.columns.tolist()
    # ['userID', 'itemID', 'rating', 'timestamp', 'title']
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from recommenders_kit.constants import (
    DEFAULT_GENRE_COL,
    DEFAULT_ITEM_COL,
    DEFAULT_RATING_COL,
    DEFAULT_TIMESTAMP_COL,
    DEFAULT_TITLE_COL,
    DEFAULT_USER_COL,
    DEFAULT_YEAR_COL,
)
from recommenders_kit.datasets import download as _dl
from recommenders_kit.datasets._reader import read_delimited
from recommenders_kit.datasets._spark_io import spark_readable_path
from recommenders_kit.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

_BASE_URL = "https://files.grouplens.org/datasets/movielens/"


@dataclass(frozen=True)
class MovieLensFormat:
    """Where one size lives and how its files are laid out.

    ``md5`` is the digest GroupLens publishes next to the archive (``<url>.md5``); a
    ``sha256`` may be set instead (it wins when both are present).
    """

    archive: str
    md5: str | None
    ratings: str
    ratings_sep: str
    items: str
    items_sep: str
    header: bool
    encoding: str
    genre_names: str | None = None
    sha256: str | None = None

    @property
    def url(self) -> str:
        return _BASE_URL + self.archive


#: The registry of sizes. Tests (and users with re-packed archives) may swap an entry.
DATASETS: dict[str, MovieLensFormat] = {
    "100k": MovieLensFormat(
        "ml-100k.zip",
        "0e33842e24a9c977be4e0107933c0723",
        "ml-100k/u.data",
        "\t",
        "ml-100k/u.item",
        "|",
        False,
        "latin-1",
        genre_names="ml-100k/u.genre",
    ),
    "1m": MovieLensFormat(
        "ml-1m.zip",
        "c4d9eecfca2ab87c1945afe126590906",
        "ml-1m/ratings.dat",
        "::",
        "ml-1m/movies.dat",
        "::",
        False,
        "latin-1",
    ),
    "10m": MovieLensFormat(
        "ml-10m.zip",
        "ce571fd55effeba0271552578f2648bd",
        "ml-10M100K/ratings.dat",
        "::",
        "ml-10M100K/movies.dat",
        "::",
        False,
        "latin-1",
    ),
    "20m": MovieLensFormat(
        "ml-20m.zip",
        "cd245b17a1ae2cc31bb14903e1204af3",
        "ml-20m/ratings.csv",
        ",",
        "ml-20m/movies.csv",
        ",",
        True,
        "utf-8",
    ),
    "25m": MovieLensFormat(
        "ml-25m.zip",
        "6b51fb2759a8657d3bfcbfc42b592ada",
        "ml-25m/ratings.csv",
        ",",
        "ml-25m/movies.csv",
        ",",
        True,
        "utf-8",
    ),
    "32m": MovieLensFormat(
        "ml-32m.zip",
        "d472be332d4daa821edc399621853b57",
        "ml-32m/ratings.csv",
        ",",
        "ml-32m/movies.csv",
        ",",
        True,
        "utf-8",
    ),
}

#: The sizes, smallest first.
SIZES = tuple(DATASETS)
#: The size the loaders, the quickstart, the sweeps and the CLI use unless told otherwise.
DEFAULT_SIZE = "100k"
DEFAULT_HEADER = (DEFAULT_USER_COL, DEFAULT_ITEM_COL, DEFAULT_RATING_COL, DEFAULT_TIMESTAMP_COL)
_RATING_DTYPES = ("int32", "int32", "float32", "int64")
_YEAR = re.compile(r"\((\d{4})\)\s*$")


def _format(size: str) -> MovieLensFormat:
    if not isinstance(size, str) or size.lower() not in DATASETS:
        raise InputError(f"size must be one of {list(DATASETS)}, got {size!r}")
    return DATASETS[size.lower()]


def _header(header: Sequence[str] | None) -> list[str]:
    names = list(DEFAULT_HEADER if header is None else header)
    if not 2 <= len(names) <= 4 or not all(isinstance(n, str) and n for n in names):
        raise InputError(
            f"header must name 2 to 4 columns (user, item[, rating[, timestamp]]), got {header!r}"
        )
    if len(set(names)) != len(names):
        raise InputError(f"header has duplicate column names: {names}")
    return names


def download(
    size: str = DEFAULT_SIZE, local_cache_path: str | os.PathLike | None = None
) -> dict[str, Path]:
    """Fetch (or reuse) the archive of ``size`` and extract its rating and movie files.

    Files already extracted in the cache are reused (they are only ever written there,
    atomically, from an archive whose checksum matched), but a rating file is read through
    once before its first use, whoever put it there: a malformed line fails here, naming the
    file and line, instead of deep inside a Spark job. A marker beside the file
    (``<name>.checked``, its size and modification time) skips the check afterwards.

    Returns:
        ``{"ratings": path, "items": path[, "genres": path]}`` on the local disk.

    Raises:
        ValueError: a malformed rating file (names file, line and field).
    """
    fmt = _format(size)
    files = _extracted(fmt, local_cache_path)
    _check_ratings(fmt, files["ratings"])
    return files


def _extracted(fmt: MovieLensFormat, local_cache_path: str | os.PathLike | None) -> dict[str, Path]:
    """The extracted files of ``fmt``: from the cache, else fetched and extracted."""
    members = {"ratings": fmt.ratings, "items": fmt.items}
    if fmt.genre_names:
        members["genres"] = fmt.genre_names
    cache = _dl.get_cache_dir(local_cache_path)
    extracted = {key: cache / member for key, member in members.items()}
    if not all(path.exists() for path in extracted.values()):
        archive = _dl.fetch(fmt.url, sha256=fmt.sha256, md5=fmt.md5, cache_dir=cache)
        files = _dl.extract(archive, list(members.values()), cache)
        extracted = {key: files[member] for key, member in members.items()}
    return extracted


def import_archive(
    size: str, archive: str | os.PathLike, local_cache_path: str | os.PathLike | None = None
) -> dict[str, Path]:
    """Install an archive of ``size`` fetched elsewhere (checked against the official
    checksum) into the cache, as :func:`download` would have; returns the extracted files.

    For machines without internet access: download the archive on another machine, copy it
    over, then ``recommenders-kit datasets import movielens --size 100k ml-100k.zip``.
    """
    fmt = _format(size)
    cache = _dl.get_cache_dir(local_cache_path)
    _dl.install(archive, fmt.url, sha256=fmt.sha256, md5=fmt.md5, cache_dir=cache)
    return download(size, cache)


def _check_ratings(fmt: MovieLensFormat, path: Path) -> None:
    """Parse ``path`` once (the pandas loader's reader) unless its marker says it was."""
    marker = path.with_name(path.name + ".checked")
    stat = path.stat()
    stamp = f"{stat.st_size} {stat.st_mtime_ns}"
    if marker.exists() and marker.read_text() == stamp:
        return
    read_delimited(
        path,
        sep=fmt.ratings_sep,
        names=list(DEFAULT_HEADER),
        dtypes=dict(zip(DEFAULT_HEADER, _RATING_DTYPES, strict=True)),
        header=fmt.header,
        encoding=fmt.encoding,
        finite=[DEFAULT_HEADER[2]],
    )
    with contextlib.suppress(OSError):  # a read-only cache: check again next time
        marker.write_text(stamp)


def load_pandas_df(
    size: str = DEFAULT_SIZE,
    header: Sequence[str] | None = None,
    col_title: str | None = None,
    col_genres: str | None = None,
    col_year: str | None = None,
    local_cache_path: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Load the ratings of ``size`` as a pandas DataFrame.

    Args:
        size: one of ``100k, 1m, 10m, 20m, 25m, 32m``.
        header: names for (user, item, rating, timestamp); 2 to 4 names keep that many
            leading columns. Types: int32, int32, float32 (stars), int64 (Unix seconds).
        col_title, col_genres, col_year: when given, the movie title, ``|``-joined genres
            and release year (parsed from the title; missing when absent) are joined in.
        local_cache_path: the data cache directory (see ``download.get_cache_dir``).

    Raises:
        ValueError: unknown size, bad header, or a malformed file (names file and line).
    """
    names = _header(header)
    fmt = _format(size)
    files = _extracted(fmt, local_cache_path)  # read_delimited below checks the rating file
    ratings = read_delimited(
        files["ratings"],
        sep=fmt.ratings_sep,
        names=list(DEFAULT_HEADER),
        dtypes=dict(zip(DEFAULT_HEADER, _RATING_DTYPES, strict=True)),
        header=fmt.header,
        encoding=fmt.encoding,
        usecols=list(DEFAULT_HEADER[: len(names)]),
        finite=[DEFAULT_HEADER[2]],
    )
    ratings.columns = names
    if col_title or col_genres or col_year:
        items = _items(fmt, files, names[1], col_title, col_genres, col_year)
        ratings = ratings.merge(items, on=names[1], how="left")
    return ratings


def load_item_df(
    size: str = DEFAULT_SIZE,
    col_item: str = DEFAULT_ITEM_COL,
    col_title: str | None = DEFAULT_TITLE_COL,
    col_genres: str | None = DEFAULT_GENRE_COL,
    col_year: str | None = DEFAULT_YEAR_COL,
    local_cache_path: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Movie metadata of ``size``: item id, title, ``|``-joined genres, release year.

    Pass ``None`` for a column to leave it out. The year is the four digits in parentheses
    at the end of the title (``"Toy Story (1995)"`` -> 1995), a nullable ``Int64``.
    """
    fmt = _format(size)
    return _items(fmt, download(size, local_cache_path), col_item, col_title, col_genres, col_year)


def _items(
    fmt: MovieLensFormat,
    files: dict[str, Path],
    col_item: str,
    col_title: str | None,
    col_genres: str | None,
    col_year: str | None,
) -> pd.DataFrame:
    if fmt.genre_names:  # 100k: id|title|release|video release|url|19 genre flags
        genres = pd.read_csv(
            files["genres"], sep="|", header=None, names=["name", "index"], encoding=fmt.encoding
        ).dropna()
        flags = [f"g{i}" for i in range(len(genres))]
        raw = pd.read_csv(
            files["items"],
            sep="|",
            header=None,
            encoding=fmt.encoding,
            names=["id", "title", "release", "video", "url", *flags],
        )
        genre_names = genres.sort_values("index")["name"].to_numpy()
        flag_matrix = raw[flags].to_numpy(dtype=bool)
        raw["genres"] = ["|".join(genre_names[row]) for row in flag_matrix]
    else:
        raw = pd.read_csv(
            files["items"],
            sep=fmt.items_sep,
            header=0 if fmt.header else None,
            names=["id", "title", "genres"],
            encoding=fmt.encoding,
            engine="python" if len(fmt.items_sep) > 1 else "c",
        )
    out = pd.DataFrame({col_item: raw["id"].astype("int32")})
    if col_title:
        out[col_title] = raw["title"].astype(str)
    if col_genres:
        out[col_genres] = raw["genres"].fillna("").astype(str)
    if col_year:
        out[col_year] = raw["title"].astype(str).str.extract(_YEAR)[0].astype("Int64")
    return out


def load_spark_df(
    spark: SparkSession,
    size: str = DEFAULT_SIZE,
    header: Sequence[str] | None = None,
    schema: StructType | None = None,
    col_title: str | None = None,
    col_genres: str | None = None,
    col_year: str | None = None,
    local_cache_path: str | os.PathLike | None = None,
    spark_data_path: str | None = None,
) -> SparkDataFrame:
    """Load the ratings of ``size`` as a Spark DataFrame, read by Spark with a schema.

    The rating file is read by the executors (never collected to the driver). On a local
    session it is read from the cache directly; on a cluster it is first copied to
    ``spark_data_path`` (or ``$RECOMMENDERS_KIT_SPARK_DATA``), a directory every executor
    can read: ``dbfs:/...``, ``abfss://...``, ``hdfs://...``.

    Args:
        schema: a 4-field schema for (user, item, rating, timestamp) overriding ``header``
            and the default types (IntegerType, IntegerType, FloatType, LongType).
        Other arguments: as :func:`load_pandas_df`.

    Malformed rows fail the read (Spark's FAILFAST mode) instead of turning into nulls.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    fmt = _format(size)
    if schema is not None:
        if len(schema.fields) != 4:
            raise InputError(
                "schema must have 4 fields (user, item, rating, timestamp), "
                f"got {len(schema.fields)}: {schema.simpleString()}"
            )
        names = list(schema.names)
    else:
        names = _header(header)
        full = names + list(DEFAULT_HEADER[len(names) :])
        kinds = [T.IntegerType(), T.IntegerType(), T.FloatType(), T.LongType()]
        schema = T.StructType([T.StructField(n, k) for n, k in zip(full, kinds, strict=True)])
    files = download(size, local_cache_path)
    path = spark_readable_path(spark, files["ratings"], spark_data_path)
    df = (
        spark.read.option("sep", fmt.ratings_sep)
        .option("header", str(fmt.header).lower())
        .option("encoding", "UTF-8" if fmt.encoding == "utf-8" else "ISO-8859-1")
        .option("mode", "FAILFAST")
        .schema(schema)
        .csv(path)
        .select(*names)
    )
    if col_title or col_genres or col_year:
        items = _items(fmt, files, names[1], col_title, col_genres, col_year)
        if col_year:
            items[col_year] = items[col_year].astype("float64")
        items_sdf = spark.createDataFrame(items)
        if col_year:
            items_sdf = items_sdf.withColumn(col_year, F.col(col_year).cast("int"))
        df = df.join(F.broadcast(items_sdf), on=names[1], how="left")
    return df
