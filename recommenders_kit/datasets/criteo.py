"""Criteo Display Advertising Challenge click logs: the 40-column schema and its loaders.

Each row is one ad impression: ``label`` (1 = clicked), 13 integer features ``int00`` ..
``int12`` (counts, nullable) and 26 hashed categorical features ``cat00`` .. ``cat25``
(8-hex-digit strings, missing as ``<NA>``), tab separated, no header.

Sizes: ``sample`` (``dac_sample.txt``, 100,000 rows) and ``full`` (``train.txt`` of the
challenge, 45,840,617 rows, 11 GB uncompressed). Criteo publishes no checksums and its
original download page is gone: set ``RECOMMENDERS_KIT_MIRROR`` to a host that serves
``dac_sample.tar.gz`` / ``dac.tar.gz``, or place the archive in the cache (the offline error
names the path). Rows whose trailing empty fields were stripped (as in many copies of the
data) are read as missing values; a row with more than 40 fields is an error naming its line.

Example::

    from recommenders_kit.datasets import criteo
    df = criteo.load_pandas_df("sample")
    df.shape
    # (100000, 40)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from recommenders_kit.constants import DEFAULT_LABEL_COL
from recommenders_kit.datasets import download as _dl
from recommenders_kit.datasets._reader import read_delimited
from recommenders_kit.datasets._spark_io import spark_readable_path
from recommenders_kit.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

N_INT = 13
N_CAT = 26
INT_COLS = [f"int{i:02d}" for i in range(N_INT)]
CAT_COLS = [f"cat{i:02d}" for i in range(N_CAT)]
DEFAULT_HEADER = (DEFAULT_LABEL_COL, *INT_COLS, *CAT_COLS)


@dataclass(frozen=True)
class CriteoFormat:
    """Where one size lives: archive URL, cached archive name, the data file inside it."""

    url: str
    archive: str
    member: str
    sha256: str | None = None


#: The registry of sizes. No official checksums exist; pass ``sha256`` to pin a copy.
DATASETS: dict[str, CriteoFormat] = {
    "sample": CriteoFormat(
        "https://labs.criteo.com/wp-content/uploads/2015/04/dac_sample.tar.gz",
        "dac_sample.tar.gz",
        "dac_sample.txt",
    ),
    "full": CriteoFormat(
        "https://ndownloader.figshare.com/files/10082655",
        "dac.tar.gz",
        "train.txt",
    ),
}
SIZES = tuple(DATASETS)


def _format(size: str) -> CriteoFormat:
    if not isinstance(size, str) or size.lower() not in DATASETS:
        raise InputError(f"size must be one of {list(DATASETS)}, got {size!r}")
    return DATASETS[size.lower()]


def _header(header: Sequence[str] | None) -> list[str]:
    names = list(DEFAULT_HEADER if header is None else header)
    if len(names) != len(DEFAULT_HEADER) or len(set(names)) != len(names):
        raise InputError(
            f"header must name {len(DEFAULT_HEADER)} distinct columns (label, 13 integer, "
            f"26 categorical), got {len(names)}"
        )
    return names


def download(
    size: str = "sample",
    local_cache_path: str | os.PathLike | None = None,
    sha256: str | None = None,
) -> Path:
    """Fetch (or reuse) the archive of ``size`` and return the extracted data file.

    A data file already extracted in the cache (``<cache>/dac_sample/dac_sample.txt``) is
    used as it is.
    """
    fmt = _format(size)
    cache = _dl.get_cache_dir(local_cache_path)
    folder = cache / fmt.archive.split(".")[0]
    if (folder / fmt.member).exists():  # extracted earlier from a fetched archive
        return folder / fmt.member
    archive = _dl.fetch(fmt.url, fmt.archive, sha256=sha256 or fmt.sha256, cache_dir=cache)
    return _dl.extract(archive, [fmt.member], folder)[fmt.member]


def import_archive(
    size: str, archive: str | os.PathLike, local_cache_path: str | os.PathLike | None = None
) -> Path:
    """Install an archive of ``size`` fetched elsewhere (checked against the official
    checksum) into the cache, as :func:`download` would have; returns the extracted file."""
    fmt = _format(size)
    cache = _dl.get_cache_dir(local_cache_path)
    _dl.install(archive, fmt.url, fmt.archive, sha256=fmt.sha256, cache_dir=cache)
    return download(size, cache)


def read_file(
    path: str | os.PathLike, header: Sequence[str] | None = None, nrows: int | None = None
) -> pd.DataFrame:
    """Read a Criteo-format file (tab separated, 40 fields, no header) into pandas.

    Types: label ``int8`` (0 or 1), integer features nullable ``Int64``, categorical
    features ``object`` strings with missing as NaN.

    Raises:
        ValueError: a row with more than 40 fields, a non-integer in an integer column, or a
            label other than 0/1, naming the file and line.
    """
    names = _header(header)
    dtypes = {names[0]: "int8"}
    dtypes.update(dict.fromkeys(names[1 : 1 + N_INT], "Int64"))
    dtypes.update(dict.fromkeys(names[1 + N_INT :], "object"))
    frame = read_delimited(
        Path(path), sep="\t", names=names, dtypes=dtypes, allow_short_rows=True, nrows=nrows
    )
    bad = ~frame[names[0]].isin([0, 1])
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 1
        raise InputError(
            f"{path}, line {line}: label {int(frame[names[0]].iloc[line - 1])} is not 0 or 1"
        )
    return frame


def load_pandas_df(
    size: str = "sample",
    local_cache_path: str | os.PathLike | None = None,
    header: Sequence[str] | None = None,
    nrows: int | None = None,
    sha256: str | None = None,
) -> pd.DataFrame:
    """Load Criteo ``size`` as a pandas DataFrame of 40 columns (see :func:`read_file`).

    Args:
        size: ``sample`` or ``full``.
        local_cache_path: the data cache directory.
        header: 40 column names replacing the defaults (label, int00..int12, cat00..cat25).
        nrows: keep only the first ``nrows`` rows.
        sha256: expected digest of the archive, to pin a mirrored copy.
    """
    return read_file(download(size, local_cache_path, sha256), header=header, nrows=nrows)


def spark_schema(header: Sequence[str] | None = None) -> StructType:
    """The Spark schema of a Criteo file: label int, 13 longs, 26 strings (all nullable)."""
    from pyspark.sql import types as T

    names = _header(header)
    kinds = [T.IntegerType()] + [T.LongType()] * N_INT + [T.StringType()] * N_CAT
    return T.StructType([T.StructField(n, k, True) for n, k in zip(names, kinds, strict=True)])


def load_spark_df(
    spark: SparkSession,
    size: str = "sample",
    local_cache_path: str | os.PathLike | None = None,
    header: Sequence[str] | None = None,
    sha256: str | None = None,
    spark_data_path: str | None = None,
) -> SparkDataFrame:
    """Load Criteo ``size`` as a Spark DataFrame, read by the executors with a schema.

    Short rows (stripped trailing fields) read as nulls; empty strings are nulls. See
    :func:`recommenders_kit.datasets.movielens.load_spark_df` for ``spark_data_path``.
    """
    path = spark_readable_path(spark, download(size, local_cache_path, sha256), spark_data_path)
    return read_spark_file(spark, path, header)


def read_spark_file(
    spark: SparkSession, path: str, header: Sequence[str] | None = None
) -> SparkDataFrame:
    """Read a Criteo-format file at a Spark-readable ``path`` into :func:`spark_schema`.

    Lines are split by the executors: missing trailing fields become nulls, while a line with
    more than 40 fields, a non-integer in an integer column or a label other than 0/1 fails
    the job with a message naming the file and quoting the line. (Spark's CSV reader cannot
    tell short rows, which are fine here, from long ones, which are not.)
    """
    from pyspark.sql import functions as F

    schema = spark_schema(header)
    fields = F.split(F.col("value"), "\t", -1)

    def fail(problem):
        return F.raise_error(
            F.concat(F.lit(f"{path}: "), problem, F.lit(": "), F.substring("value", 1, 200))
        )

    lines = spark.read.text(path).where(F.col("value") != "")
    checked = lines.select(
        "value",
        F.when(
            F.size(fields) > len(schema.fields),
            fail(
                F.concat(
                    F.lit(f"expected {len(schema.fields)} fields, found "),
                    F.size(fields).cast("string"),
                )
            ),
        )
        .otherwise(fields)
        .alias("f"),
    )
    columns = []
    for i, field in enumerate(schema.fields):
        raw = F.get(F.col("f"), i)
        text = F.when(raw != "", raw)
        if field.dataType.typeName() == "string":
            columns.append(text.alias(field.name))
            continue
        value = text.cast(field.dataType)
        bad = text.isNotNull() & value.isNull()
        if i == 0:
            bad = bad | text.isNull() | ~value.isin(0, 1)
        problem = F.lit(f"field {field.name!r} is not a valid {field.dataType.simpleString()}")
        columns.append(F.when(bad, fail(problem)).otherwise(value).alias(field.name))
    return checked.select(*columns)


def to_spark(
    spark: SparkSession, frame: pd.DataFrame, header: Sequence[str] | None = None
) -> SparkDataFrame:
    """A pandas Criteo frame (from :func:`read_file` or the generator) as a Spark DataFrame
    with :func:`spark_schema`; missing values become nulls. ``category`` columns are handed
    over as they are: the Arrow transfer turns them into strings one batch at a time, so the
    strings of millions of rows never exist at once.

    The rows travel from this process into the driver's JVM heap and stay there (the
    DataFrame's source): fine for samples and tests; for millions of rows write parquet files
    and ``spark.read.parquet`` them (4M rows handed over directly ran a 10 GB driver out of
    memory here)."""
    names = _header(header)
    plain = frame[names].assign(**{names[0]: frame[names[0]].astype("int32")})
    return spark.createDataFrame(plain, schema=spark_schema(names))
