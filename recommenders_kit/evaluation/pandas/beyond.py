"""Beyond-accuracy metrics of a set of recommendations ``reco_df`` (user, item rows), pandas.

They describe the recommendations themselves rather than how well they match held-out data:
how much of the catalogue they use, how evenly, how unusual and how varied they are. The
Spark twins are in :mod:`recommenders_kit.evaluation.spark.beyond`. An empty frame raises
``ValueError``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_columns, require_pandas_frame
from recommenders_kit.constants import DEFAULT_ITEM_COL, DEFAULT_USER_COL
from recommenders_kit.errors import InputError

__all__ = ["catalog_coverage", "distributional_coverage", "diversity", "novelty"]


def _check(name: str, frame: pd.DataFrame, cols: list[str]) -> None:
    require_pandas_frame(frame, [], name)
    if frame.empty:
        raise InputError(f"{name} is empty")
    require_columns(frame.columns, cols, name)


def catalog_coverage(
    train_df: pd.DataFrame, reco_df: pd.DataFrame, col_item: str = DEFAULT_ITEM_COL
) -> float:
    """Catalogue coverage: distinct recommended items / distinct items in ``train_df``.

    Args:
        train_df: the training interactions (the catalogue is their items).
        reco_df: the recommendations, one row per (user, item).
        col_item: the item column of both frames.

    Returns:
        A float >= 0 (above 1 only if items outside the training data are recommended).

    Example:
        >>> import pandas as pd  # trained: item 1 by a, b, c; 2 by a; 3 by b
        >>> train = pd.DataFrame({"userID": list("aabbc"), "itemID": [1, 2, 1, 3, 1]})
        >>> reco = pd.DataFrame({"userID": list("aabb"), "itemID": [1, 3, 1, 2]})
        >>> catalog_coverage(train, reco)  # items {1, 2, 3} of {1, 2, 3}
        1.0
    """
    _check("train_df", train_df, [col_item])
    _check("reco_df", reco_df, [col_item])
    return float(reco_df[col_item].nunique() / train_df[col_item].nunique())


def distributional_coverage(reco_df: pd.DataFrame, col_item: str = DEFAULT_ITEM_COL) -> float:
    """Distributional coverage: ``-sum p_i log2 p_i``, the entropy in bits of how often each
    item is recommended (``p_i``: item i's share of the rows of ``reco_df``).

    0 when everyone gets the same one item; ``log2(n)`` when n items are recommended equally
    often.

    Args:
        reco_df: the recommendations, one row per (user, item).
        col_item: the item column.

    Returns:
        A float >= 0, in bits.

    Example:
        >>> import pandas as pd  # trained: item 1 by a, b, c; 2 by a; 3 by b
        >>> train = pd.DataFrame({"userID": list("aabbc"), "itemID": [1, 2, 1, 3, 1]})
        >>> reco = pd.DataFrame({"userID": list("aabb"), "itemID": [1, 3, 1, 2]})
        >>> distributional_coverage(reco)  # shares 1/2, 1/4, 1/4
        1.5
    """
    _check("reco_df", reco_df, [col_item])
    p = reco_df[col_item].value_counts(normalize=True).to_numpy()
    return float(-(p * np.log2(p)).sum())


def novelty(
    train_df: pd.DataFrame, reco_df: pd.DataFrame, col_item: str = DEFAULT_ITEM_COL
) -> float:
    """Novelty: ``mean over recommendations of -log2(n_i / N)``, in bits.

    ``n_i`` is the number of ``train_df`` rows of the recommended item, ``N`` the number of
    rows of ``train_df``: recommending rarely seen items scores high. Recommended items absent
    from ``train_df`` are left out.

    Args:
        train_df: the training interactions.
        reco_df: the recommendations, one row per (user, item).
        col_item: the item column of both frames.

    Returns:
        A float >= 0. Raises ``ValueError`` when no recommended item is in ``train_df``.

    Example:
        >>> import pandas as pd  # trained: item 1 by a, b, c; 2 by a; 3 by b
        >>> train = pd.DataFrame({"userID": list("aabbc"), "itemID": [1, 2, 1, 3, 1]})
        >>> reco = pd.DataFrame({"userID": list("aabb"), "itemID": [1, 3, 1, 2]})
        >>> round(novelty(train, reco), 4)  # item 1: -log2(3/5) twice, 2 and 3: -log2(1/5)
        1.5294
    """
    _check("train_df", train_df, [col_item])
    _check("reco_df", reco_df, [col_item])
    counts = train_df[col_item].value_counts()
    n = counts.reindex(reco_df[col_item].to_numpy()).to_numpy(dtype=np.float64)
    n = n[~np.isnan(n)]
    if not len(n):
        raise InputError("no recommended item appears in train_df")
    return float(np.mean(-np.log2(n / len(train_df))))


def diversity(
    train_df: pd.DataFrame,
    reco_df: pd.DataFrame,
    item_feature_df: pd.DataFrame | None = None,
    col_item_features: str = "features",
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
) -> float:
    """Diversity: ``1 - mean over users of the mean similarity of their recommended pairs``.

    The similarity of two items is the cosine of their ``train_df`` user sets (users in
    common / sqrt of the product of the items' user counts), or, given ``item_feature_df``,
    the cosine of their feature vectors. Users with fewer than 2 recommended items are left
    out.

    Args:
        train_df: the training interactions (for co-occurrence similarity).
        reco_df: the recommendations, one row per (user, item).
        item_feature_df: optional (item, features) frame whose ``col_item_features`` holds a
            numeric vector per item.
        col_item_features, col_user, col_item: column names.

    Returns:
        A float, 1 for lists of unrelated items. Raises ``ValueError`` when no user has 2
        recommended items.

    Example:
        >>> import pandas as pd  # trained: item 1 by a, b, c; 2 by a; 3 by b
        >>> train = pd.DataFrame({"userID": list("aabbc"), "itemID": [1, 2, 1, 3, 1]})
        >>> reco = pd.DataFrame({"userID": list("aabb"), "itemID": [1, 3, 1, 2]})
        >>> round(diversity(train, reco), 4)  # every recommended pair: 1 / sqrt(3 * 1)
        0.4226
    """
    _check("train_df", train_df, [col_user, col_item])
    _check("reco_df", reco_df, [col_user, col_item])
    items = pd.Index(pd.unique(reco_df[col_item]))
    if item_feature_df is not None:
        _check("item_feature_df", item_feature_df, [col_item, col_item_features])
        similarity = _feature_similarity(item_feature_df, items, col_item, col_item_features)
    else:
        similarity = _co_occurrence_similarity(train_df, items, col_user, col_item)
    reco_items = items.get_indexer(reco_df[col_item])
    user_codes = pd.factorize(reco_df[col_user].to_numpy())[0]
    order = np.argsort(user_codes, kind="stable")
    per_user = np.split(reco_items[order], np.flatnonzero(np.diff(user_codes[order])) + 1)
    scores = []
    for rec in per_user:  # loop over users; each step is a small dense block
        if len(rec) < 2:
            continue
        block = similarity[np.ix_(rec, rec)]
        scores.append((block.sum() - np.trace(block)) / (len(rec) * (len(rec) - 1)))
    if not scores:
        raise InputError("diversity needs users with at least 2 recommended items")
    return float(1.0 - np.mean(scores))


def _feature_similarity(
    item_feature_df: pd.DataFrame, items: pd.Index, col_item: str, col_item_features: str
) -> np.ndarray:
    """Cosine similarity of the feature vectors of ``items`` (a dense items x items matrix)."""
    feats = item_feature_df.set_index(col_item)[col_item_features].reindex(items)
    if feats.isna().any():
        raise InputError(f"item_feature_df lacks features for {int(feats.isna().sum())} items")
    matrix = np.vstack([np.asarray(v, dtype=np.float64) for v in feats])
    norms = np.linalg.norm(matrix, axis=1)
    unit = matrix / np.where(norms == 0, 1, norms)[:, None]
    return unit @ unit.T


def _co_occurrence_similarity(
    train_df: pd.DataFrame, items: pd.Index, col_user: str, col_item: str
) -> np.ndarray:
    """Cosine similarity of the training user sets of ``items`` (dense items x items)."""
    from scipy import sparse

    train_items = items.get_indexer(train_df[col_item])
    known = train_items >= 0
    users = pd.factorize(train_df[col_user].to_numpy()[known])[0]
    x = sparse.csr_matrix(
        (np.ones(known.sum()), (train_items[known], users)),
        shape=(len(items), users.max() + 1 if len(users) else 0),
    )
    x.data[:] = 1.0  # duplicate interactions count once
    co = (x @ x.T).toarray()
    degree = np.sqrt(np.diag(co))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(co / np.outer(degree, degree))
