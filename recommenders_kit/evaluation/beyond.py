"""Beyond-accuracy metrics of a set of recommendations ``reco_df`` (user, item rows).

===========================  ===============================================================
catalog_coverage             distinct recommended items / distinct items in ``train_df``
distributional_coverage      Shannon entropy (bits) of how often each item is recommended
novelty                      mean over recommendations of ``-log2(n_i / N)``: ``n_i`` the
                             item's interactions in ``train_df``, ``N`` its rows (items
                             absent from ``train_df`` are left out)
diversity                    ``1 -`` the mean over users of the mean pairwise similarity
                             of their recommended items: cosine of item co-occurrence in
                             ``train_df`` (users in common / sqrt of the product of the
                             items' user counts), or cosine of item feature vectors
===========================  ===============================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_columns, require_pandas_frame
from recommenders_kit.constants import DEFAULT_ITEM_COL, DEFAULT_USER_COL


def _check(name: str, frame: pd.DataFrame, cols: list[str]) -> None:
    require_pandas_frame(frame, [], name)
    if frame.empty:
        raise ValueError(f"{name} is empty")
    require_columns(frame.columns, cols, name)


def catalog_coverage(
    train_df: pd.DataFrame, reco_df: pd.DataFrame, col_item: str = DEFAULT_ITEM_COL
) -> float:
    """Share of the training catalogue that is recommended to at least one user."""
    _check("train_df", train_df, [col_item])
    _check("reco_df", reco_df, [col_item])
    return float(reco_df[col_item].nunique() / train_df[col_item].nunique())


def distributional_coverage(reco_df: pd.DataFrame, col_item: str = DEFAULT_ITEM_COL) -> float:
    """Entropy in bits of the recommended-item distribution (0: one item for everyone)."""
    _check("reco_df", reco_df, [col_item])
    p = reco_df[col_item].value_counts(normalize=True).to_numpy()
    return float(-(p * np.log2(p)).sum())


def novelty(
    train_df: pd.DataFrame, reco_df: pd.DataFrame, col_item: str = DEFAULT_ITEM_COL
) -> float:
    """Mean self-information ``-log2(popularity)`` of the recommended items, in bits."""
    _check("train_df", train_df, [col_item])
    _check("reco_df", reco_df, [col_item])
    counts = train_df[col_item].value_counts()
    n = counts.reindex(reco_df[col_item].to_numpy()).to_numpy(dtype=np.float64)
    n = n[~np.isnan(n)]
    if not len(n):
        raise ValueError("no recommended item appears in train_df")
    return float(np.mean(-np.log2(n / len(train_df))))


def diversity(
    train_df: pd.DataFrame,
    reco_df: pd.DataFrame,
    item_feature_df: pd.DataFrame | None = None,
    col_item_features: str = "features",
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
) -> float:
    """``1 -`` average intra-list similarity (users with fewer than 2 items are left out).

    Args:
        item_feature_df: optional (item, features) frame whose ``col_item_features`` holds a
            numeric vector per item; without it, similarity is co-occurrence cosine in
            ``train_df``.
    """
    from scipy import sparse

    _check("train_df", train_df, [col_user, col_item])
    _check("reco_df", reco_df, [col_user, col_item])
    items = pd.Index(pd.unique(reco_df[col_item]))
    reco_items = items.get_indexer(reco_df[col_item])
    if item_feature_df is not None:
        _check("item_feature_df", item_feature_df, [col_item, col_item_features])
        feats = item_feature_df.set_index(col_item)[col_item_features].reindex(items)
        if feats.isna().any():
            raise ValueError(f"item_feature_df lacks features for {int(feats.isna().sum())} items")
        matrix = np.vstack([np.asarray(v, dtype=np.float64) for v in feats])
        norms = np.linalg.norm(matrix, axis=1)
        unit = matrix / np.where(norms == 0, 1, norms)[:, None]
        similarity = unit @ unit.T
    else:
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
            similarity = np.nan_to_num(co / np.outer(degree, degree))
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
        raise ValueError("diversity needs users with at least 2 recommended items")
    return float(1.0 - np.mean(scores))
