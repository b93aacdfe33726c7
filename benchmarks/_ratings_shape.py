"""Generated ratings with MovieLens' shape, at any size (the 20M archive cannot be downloaded
here): users with at least 20 ratings and a log-normal tail of heavy raters, items with a
power-law popularity, no user rating an item twice, and a low-rank taste behind the stars.

Each user's items are a weighted sample without replacement (Gumbel top-k on log
popularity), a block of users at a time, so memory stays at one block of scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Shape:
    """Users, items, ratings, and the count distributions' parameters."""

    users: int
    items: int
    ratings: int
    min_per_user: int = 20
    max_per_user: int | None = None
    user_sigma: float = 1.1  # log-normal spread of ratings per user beyond the minimum
    item_exponent: float = 1.0  # popularity of the item of rank r: (r + offset) ** -exponent
    item_offset: float = 0.0
    half_stars: bool = False


ML_1M = Shape(users=6_040, items=3_706, ratings=1_000_209)
#: ML-20M: per user at least 20, median 68, mean 144, at most 9,254 ratings; per item a long
#: tail (median 18 ratings, the most rated 67,310); half stars. The popularity parameters
#: were fitted to those item figures with the expected inclusion counts of the weighted
#: sampling (median 19, most rated ~66,000).
ML_20M = Shape(
    users=138_493,
    items=26_744,
    ratings=20_000_263,
    max_per_user=9_254,
    user_sigma=1.4,
    item_exponent=2.5,
    item_offset=220.0,
    half_stars=True,
)


def user_counts(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Ratings per user: the minimum plus a log-normal share of the rest, capped, summing to
    ``shape.ratings`` exactly."""
    cap = min(shape.max_per_user or shape.items, shape.items)
    activity = rng.lognormal(0, shape.user_sigma, shape.users)
    extra = shape.ratings - shape.min_per_user * shape.users
    counts = shape.min_per_user + np.floor(activity / activity.sum() * extra).astype(np.int64)
    counts = np.minimum(counts, cap)
    while counts.sum() < shape.ratings:  # hand what the cap and the rounding took to others
        room = np.flatnonzero(counts < cap)
        short = shape.ratings - counts.sum()
        take = rng.choice(room, size=min(short, len(room)), replace=False)
        counts[take] += 1
    return counts


def generate(shape: Shape, seed: int = 0, block: int = 2_000) -> pd.DataFrame:
    """``userID, itemID, rating, timestamp`` rows of ``shape`` (ids from 1)."""
    rng = np.random.default_rng(seed)
    counts = user_counts(shape, rng)
    rank = np.arange(1, shape.items + 1) + shape.item_offset
    log_pop = (-shape.item_exponent * np.log(rank)).astype(np.float32)
    users_f = rng.normal(0, 1, (shape.users, 8)).astype(np.float32)
    items_f = rng.normal(0, 1, (shape.items, 8)).astype(np.float32)
    user_col = np.repeat(np.arange(1, shape.users + 1, dtype=np.int32), counts)
    item_col = np.empty(shape.ratings, dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    for start in range(0, shape.users, block):
        stop = min(start + block, shape.users)
        uniform = rng.random((stop - start, shape.items), dtype=np.float32)
        keys = log_pop - np.log(-np.log(np.maximum(uniform, 1e-30)))  # Gumbel top-k keys
        for row, u in enumerate(range(start, stop)):
            c = counts[u]
            item_col[offsets[u] : offsets[u + 1]] = np.argpartition(keys[row], -c)[-c:]
    taste = np.einsum("ij,ij->i", users_f[user_col - 1], items_f[item_col]) / 3
    stars = 3.5 + taste + rng.normal(0, 0.7, shape.ratings).astype(np.float32)
    step = 2 if shape.half_stars else 1
    rating = np.clip(np.round(stars * step) / step, 1 / step, 5).astype(np.float32)
    timestamp = 1_000_000_000 + rng.integers(0, 400_000_000, shape.ratings)
    return pd.DataFrame(
        {"userID": user_col, "itemID": item_col + 1, "rating": rating, "timestamp": timestamp}
    )


def describe(ratings: pd.DataFrame) -> dict[str, str]:
    """min / median / mean / max ratings per user and per item."""
    out = {}
    for col in ("userID", "itemID"):
        n = ratings.groupby(col).size()
        out[col] = f"{n.min()} / {n.median():.0f} / {n.mean():.0f} / {n.max()}"
    return out
