"""Criteo-shaped click logs with a planted click model, for quality and speed at any scale.

:func:`generate` returns rows with the 40 columns of :mod:`recommenders_kit.datasets.criteo`
(label, ``int00`` .. ``int12``, ``cat00`` .. ``cat25``) and, separately, each row's true click
probability. The label is drawn from that probability, so the AUC of the probability itself is
the ceiling no model can beat on the generated data. :func:`write_parquet` writes any number
of rows (Criteo's 45.8M, say) as parquet files, one file in memory at a time, with the
probability as a column.

What makes it Criteo-like:

* integer features: heavy-tailed counts (geometric and log-normal), some negative values,
  per-column missing rates from 0% to 75% as in the real data;
* categorical features: cardinalities from 3 to 2 million, Zipf-distributed (a few values are
  very frequent, most are rare), 8-hex-digit strings, some columns up to 45% missing; returned
  as pandas ``category`` dtype (the strings are stored once per distinct value);
* clicks: ``logit p = intercept + main effects + interactions``, the intercept calibrated so
  that the mean click rate is ``base_rate`` (25% by default, as in the real data): effects of
  ``log1p(int00)``, ``log1p(int04)``, missing ``int02``, per-value effects of four
  low-cardinality columns (``cat05``, ``cat08``, ``cat13``, ``cat19``), of the 200 most frequent
  values of a high-cardinality column (``cat02``), and two interactions (``int00`` x ``cat05``,
  ``cat08`` x ``cat19``). The other 30 features are noise.

Example:
    >>> from recommenders_kit.datasets.criteo_synthetic import generate
    >>> frame, p = generate(1000, seed=0)
    >>> frame.shape, round(float(p.mean()), 2)
    ((1000, 40), 0.25)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recommenders_kit._progress import progress_bar
from recommenders_kit._validate import require_positive_int
from recommenders_kit.datasets.criteo import CAT_COLS, DEFAULT_HEADER, INT_COLS
from recommenders_kit.errors import InputError

#: Distinct values available per categorical column (like the real data's cardinalities).
CARDINALITIES = [
    1_460,
    583,
    2_000_000,
    300_000,
    305,
    24,
    12_517,
    633,
    3,
    93_145,
    5_683,
    1_500_000,
    3_194,
    27,
    14_992,
    1_000_000,
    10,
    5_652,
    2_173,
    4,
    1_200_000,
    18,
    15,
    286_181,
    105,
    142_572,
]
CAT_MISSING = [
    0,
    0,
    0.03,
    0.03,
    0,
    0.12,
    0,
    0,
    0,
    0,
    0,
    0.03,
    0,
    0,
    0,
    0.03,
    0,
    0,
    0.44,
    0.44,
    0.03,
    0,
    0.76,
    0.03,
    0.44,
    0.44,
]
INT_MISSING = [0.45, 0, 0.21, 0.22, 0.03, 0.22, 0.04, 0, 0.04, 0.45, 0.04, 0.76, 0.22]
INT_SCALES = [2, 100, 20, 7, 18_000, 100, 16, 12, 100, 1, 2, 1, 8]
#: The column of :func:`write_parquet`'s files holding each row's true click probability.
PROBABILITY_COL = "click_probability"


def _zipf_codes(rng: np.random.Generator, n: int, cardinality: int, s: float = 1.1) -> np.ndarray:
    """``n`` draws from ``cardinality`` values with Zipf(s) frequencies (code 0 most frequent)."""
    ranks = np.arange(1, cardinality + 1, dtype=np.float64)
    cdf = np.cumsum(ranks**-s)
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random(n)).clip(max=cardinality - 1)


def _hex_categories(codes: np.ndarray, missing: np.ndarray, salt: int) -> pd.Categorical:
    """8-hex-digit labels: a multiplicative hash, one-to-one on codes below 2**32."""
    used, inverse = np.unique(codes, return_inverse=True)
    hashed = (used.astype(np.uint64) * np.uint64(2654435761) + np.uint64(salt)) % np.uint64(2**32)
    inverse = inverse.astype(np.int64)
    inverse[missing] = -1
    return pd.Categorical.from_codes(inverse, categories=np.char.mod("%08x", hashed))


def generate(
    n_rows: int, seed: int = 0, base_rate: float = 0.25
) -> tuple[pd.DataFrame, np.ndarray]:
    """``n_rows`` Criteo-shaped rows and their true click probabilities.

    Returns:
        (frame with the 40 Criteo columns, float64 array of click probabilities).
    """
    _check_args(n_rows, base_rate)
    rng = np.random.default_rng(seed)  # one stream, drawn in this order: same seed, same rows
    ints, columns = _numeric_columns(rng, n_rows)
    cats, categorical = _categorical_columns(rng, n_rows)
    planted = _Planted.draw(rng, _x0(ints).mean())
    p = _click_probability(planted.logit(ints, cats), base_rate)
    label = (rng.random(n_rows) < p).astype(np.int8)
    return _frame(label, columns, categorical), p


def write_parquet(
    folder: str | os.PathLike[str],
    n_rows: int,
    rows_per_file: int = 1_000_000,
    seed: int = 0,
    base_rate: float = 0.25,
    progress: bool = True,
) -> list[str]:
    """Write ``n_rows`` generated rows as parquet files of ``rows_per_file`` rows each, one
    file in memory at a time (45.8M rows, the size of Criteo's training set, need about one
    file's worth of memory); returns the files' paths, in row order.

    Every file holds the 40 Criteo columns (categoricals dictionary-encoded) and
    :data:`PROBABILITY_COL`, the row's true click probability. One planted click model is
    drawn from ``seed`` for all files (its intercept calibrated on the first file), each
    file's rows from ``(seed, file number)``: the same arguments write the same files, and
    a smaller run's files are the first files of a bigger one's. Files
    are written under a temporary name and renamed, so a file that exists is complete; a
    failed write removes its temporary file.
    """
    _check_args(n_rows, base_rate)
    require_positive_int(rows_per_file, "rows_per_file")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    planted: _Planted | None = None
    intercept: float | None = None
    paths = []
    n_files = -(-n_rows // rows_per_file)
    with progress_bar(n_files, "writing parquet", "file", progress) as bar:
        for i in range(n_files):
            n = min(rows_per_file, n_rows - i * rows_per_file)
            rng = np.random.default_rng([seed, i])
            ints, columns = _numeric_columns(rng, n)
            cats, categorical = _categorical_columns(rng, n)
            if planted is None:  # centred and calibrated on the first file
                planted = _Planted.draw(np.random.default_rng(seed), _x0(ints).mean())
            logit = planted.logit(ints, cats)
            if intercept is None:
                intercept = _intercept(logit, base_rate)
            p = _sigmoid(logit + intercept)
            frame = _frame((rng.random(n) < p).astype(np.int8), columns, categorical)
            frame[PROBABILITY_COL] = p
            path = out / f"part-{i:05d}.parquet"
            staging = out / f".{path.name}.tmp"
            try:
                frame.to_parquet(staging, index=False)
            except BaseException:
                staging.unlink(missing_ok=True)  # a failed write (a full disk) leaves nothing
                raise
            staging.replace(path)
            paths.append(str(path))
            bar.update(1)
    return paths


def _check_args(n_rows: int, base_rate: float) -> None:
    require_positive_int(n_rows, "n_rows")
    if not 0 < base_rate < 1:
        raise InputError(f"base_rate must be in (0, 1), got {base_rate}")


def _frame(
    label: np.ndarray, numeric: dict[str, object], categorical: dict[str, object]
) -> pd.DataFrame:
    """The 40 Criteo columns, in the schema's order."""
    frame = pd.DataFrame({DEFAULT_HEADER[0]: label, **numeric, **categorical})
    return frame[list(DEFAULT_HEADER)]


Drawn = dict[str, tuple[np.ndarray, np.ndarray]]  # column -> (values or codes, missing)


def _numeric_columns(rng: np.random.Generator, n_rows: int) -> tuple[Drawn, dict[str, object]]:
    """Heavy-tailed counts with Criteo's missing rates (a few negatives in ``int01``)."""
    drawn, columns = {}, {}
    for name, scale, miss in zip(INT_COLS, INT_SCALES, INT_MISSING, strict=True):
        values = np.floor(rng.lognormal(np.log(scale), 1.3, n_rows)).astype(np.int64)
        if name == "int01":
            values -= rng.integers(0, 3, n_rows) * (rng.random(n_rows) < 0.05)  # some negatives
        missing = rng.random(n_rows) < miss
        drawn[name] = (values, missing)
        columns[name] = pd.arrays.IntegerArray(values, missing)
    return drawn, columns


def _categorical_columns(rng: np.random.Generator, n_rows: int) -> tuple[Drawn, dict[str, object]]:
    """Zipf-distributed codes of each column's cardinality, written as 8-hex-digit hashes."""
    drawn, columns = {}, {}
    columns_and_rates = zip(CAT_COLS, CARDINALITIES, CAT_MISSING, strict=True)
    for salt, (name, card, miss) in enumerate(columns_and_rates):
        codes = _zipf_codes(rng, n_rows, card)
        missing = rng.random(n_rows) < miss
        drawn[name] = (codes, missing)
        columns[name] = _hex_categories(codes, missing, salt * 7919)
    return drawn, columns


def _x0(ints: Drawn) -> np.ndarray:
    return np.log1p(np.where(ints["int00"][1], 0, ints["int00"][0]))


_EFFECTS = [("cat05", 0.8), ("cat08", 0.7), ("cat13", 0.5), ("cat19", 0.6)]


@dataclass(frozen=True)
class _Planted:
    """The planted click model: main effects of three numeric and four categorical columns,
    a popular-head effect, and two interactions (a categorical slope on a count centred at
    ``x0_center``, a categorical pair)."""

    effects: dict[str, np.ndarray]
    head: np.ndarray
    slope: np.ndarray
    pair: np.ndarray
    x0_center: float

    @classmethod
    def draw(cls, rng: np.random.Generator, x0_center: float) -> _Planted:
        card = dict(zip(CAT_COLS, CARDINALITIES, strict=True))
        effects = {name: rng.normal(0, s, card[name] + 1) for name, s in _EFFECTS}
        head = rng.normal(0, 0.9, 200)
        slope = rng.normal(0, 0.5, card["cat05"] + 1)
        return cls(effects, head, slope, rng.normal(0, 0.7, (4, 5)), float(x0_center))

    def logit(self, ints: Drawn, cats: Drawn) -> np.ndarray:
        """The logit of each row, without the intercept."""
        x0 = _x0(ints)
        logit = 0.6 * x0 - 0.35 * np.log1p(np.where(ints["int04"][1], 0, ints["int04"][0]) / 100)
        logit += np.where(ints["int02"][1], 0.5, 0.0)
        for name, effect in self.effects.items():
            codes, missing = cats[name]
            logit += effect[np.where(missing, -1, codes)]
        codes, missing = cats["cat02"]
        logit += np.where((codes < 200) & ~missing, self.head[np.minimum(codes, 199)], 0.0)
        logit += self.slope[np.where(cats["cat05"][1], -1, cats["cat05"][0])] * (
            x0 - self.x0_center
        )
        column = np.where(cats["cat19"][1], 4, cats["cat19"][0])
        return logit + self.pair[cats["cat08"][0] % 4, column]


def _click_probability(logit: np.ndarray, base_rate: float) -> np.ndarray:
    """``sigmoid(logit + b)`` with the intercept of :func:`_intercept`."""
    return _sigmoid(logit + _intercept(logit, base_rate))


def _intercept(logit: np.ndarray, base_rate: float) -> float:
    """The ``b`` (found by bisection) for which the mean of ``sigmoid(logit + b)`` is
    ``base_rate``."""
    low, high = -20.0, 20.0
    for _ in range(60):
        mid = (low + high) / 2
        if np.mean(_sigmoid(logit + mid)) < base_rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))
