"""Criteo-shaped click logs with a planted click model, for quality and speed at any scale.

:func:`generate` returns rows with the 40 columns of :mod:`recommenders_kit.datasets.criteo`
(label, ``int00`` .. ``int12``, ``cat00`` .. ``cat25``) and, separately, each row's true click
probability. The label is drawn from that probability, so the AUC of the probability itself is
the ceiling no model can beat on the generated data.

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

import numpy as np
import pandas as pd

from recommenders_kit.datasets.criteo import CAT_COLS, DEFAULT_HEADER, INT_COLS

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
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 1:
        raise ValueError(f"n_rows must be an int >= 1, got {n_rows!r}")
    if not 0 < base_rate < 1:
        raise ValueError(f"base_rate must be in (0, 1), got {base_rate}")
    rng = np.random.default_rng(seed)  # one stream, drawn in this order: same seed, same rows
    ints, columns = _numeric_columns(rng, n_rows)
    cats, categorical = _categorical_columns(rng, n_rows)
    p = _click_probability(_planted_logit(rng, ints, cats), base_rate)
    label = (rng.random(n_rows) < p).astype(np.int8)
    frame = pd.DataFrame({DEFAULT_HEADER[0]: label, **columns, **categorical})
    return frame[list(DEFAULT_HEADER)], p


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


def _planted_logit(rng: np.random.Generator, ints: Drawn, cats: Drawn) -> np.ndarray:
    """Main effects of three numeric and four categorical columns, a popular-head effect,
    and two interactions (a categorical slope on a count, a categorical pair)."""
    x0 = np.log1p(np.where(ints["int00"][1], 0, ints["int00"][0]))
    logit = 0.6 * x0 - 0.35 * np.log1p(np.where(ints["int04"][1], 0, ints["int04"][0]) / 100)
    logit += np.where(ints["int02"][1], 0.5, 0.0)
    for name, strength in [("cat05", 0.8), ("cat08", 0.7), ("cat13", 0.5), ("cat19", 0.6)]:
        codes, missing = cats[name]
        effect = rng.normal(0, strength, CARDINALITIES[CAT_COLS.index(name)] + 1)
        logit += effect[np.where(missing, -1, codes)]
    head = rng.normal(0, 0.9, 200)
    codes, missing = cats["cat02"]
    logit += np.where((codes < 200) & ~missing, head[np.minimum(codes, 199)], 0.0)
    slope = rng.normal(0, 0.5, CARDINALITIES[CAT_COLS.index("cat05")] + 1)
    logit += slope[np.where(cats["cat05"][1], -1, cats["cat05"][0])] * (x0 - x0.mean())
    pair = rng.normal(0, 0.7, (4, 5))
    return logit + pair[cats["cat08"][0] % 4, np.where(cats["cat19"][1], 4, cats["cat19"][0])]


def _click_probability(logit: np.ndarray, base_rate: float) -> np.ndarray:
    """``sigmoid(logit + b)`` with the intercept ``b`` found by bisection so that the mean
    click probability is ``base_rate``."""
    low, high = -20.0, 20.0
    for _ in range(60):
        mid = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(logit + mid)))) < base_rate:
            low = mid
        else:
            high = mid
    return 1 / (1 + np.exp(-(logit + (low + high) / 2)))
