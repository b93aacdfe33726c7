"""Ranking metrics: a hand-worked example and a brute-force per-user loop on random data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.evaluation.pandas import evaluate, ranking

# Hand-worked example, k = 3.
#   truth: user 1 -> {1, 2, 3, 10} (R=4); user 2 -> {4} (R=1); user 3 -> {5, 6} (not in pred)
#   pred:  user 1 -> 1 (.9), 7 (.8), 2 (.7), 3 (.1)   top 3 = [1, 7, 2], hits at ranks 1, 3
#          user 2 -> 8 (.5), 4 (.5), 9 (.3)           tie kept in input order: [8, 4, 9], hit at 2
#          user 4 -> 1 (.9)                           not in truth: ignored
#   two common users.
TRUE = pd.DataFrame(
    {"userID": [1, 1, 1, 1, 2, 3, 3], "itemID": [1, 2, 3, 10, 4, 5, 6], "rating": 5.0}
)
PRED = pd.DataFrame(
    {
        "userID": [1, 1, 1, 1, 2, 2, 2, 4],
        "itemID": [1, 7, 2, 3, 8, 4, 9, 1],
        "prediction": [0.9, 0.8, 0.7, 0.1, 0.5, 0.5, 0.3, 0.9],
    }
)
L2, L3 = math.log2(2), math.log2(3)
HAND = {
    # u1: 2/3, u2: 1/3
    "precision_at_k": (2 / 3 + 1 / 3) / 2,
    # u1: 2/4, u2: 1/1
    "recall_at_k": (2 / 4 + 1) / 2,
    # u1: DCG = 1/log2(2) + 1/log2(4) = 1.5, IDCG (3 hits) = 1 + 1/log2(3) + 1/2
    # u2: DCG = 1/log2(3), IDCG (1 hit) = 1
    "ndcg_at_k": (1.5 / (1 / L2 + 1 / L3 + 0.5) + 1 / L3) / 2,
    # u1: (1/1 + 2/3) / min(4, 3); u2: (1/2) / min(1, 3)
    "map_at_k": ((1 + 2 / 3) / 3 + 0.5) / 2,
    # u1: (1/1 + 2/3) / 4; u2: (1/2) / 1
    "map": ((1 + 2 / 3) / 4 + 0.5) / 2,
    # u1: hits at ranks <= 4: 2, / 4; u2: hits at rank <= 1: 0
    "r_precision_at_k": (2 / 4 + 0) / 2,
    "hit_ratio_at_k": 1.0,
    # u1: 1/1, u2: 1/2
    "mrr_at_k": (1 + 0.5) / 2,
}


@pytest.mark.parametrize("name", list(HAND))
def test_hand_worked_example(name):
    fn = getattr(ranking, name)
    assert fn(TRUE, PRED, k=3) == pytest.approx(HAND[name], abs=1e-12)


def test_evaluate_returns_the_same_values_in_order():
    assert evaluate(TRUE, PRED, metrics=list(HAND), k=3) == pytest.approx(HAND, abs=1e-12)
    assert list(evaluate(TRUE, PRED, metrics=["mrr_at_k", "map"], k=3)) == ["mrr_at_k", "map"]


def test_by_threshold_keeps_common_users_without_recommendations():
    # threshold .75: u1 recommends [1, 7] (hit at 1), u2 recommends nothing but still counts
    got = ranking.precision_at_k(TRUE, PRED, k=3, relevancy_method="by_threshold", threshold=0.75)
    assert got == pytest.approx((1 / 3 + 0) / 2)
    assert ranking.mrr_at_k(
        TRUE, PRED, k=3, relevancy_method="by_threshold", threshold=0.75
    ) == pytest.approx(0.5)


def test_k_larger_than_the_lists():
    # k = 10 > every list: precision divides by k, IDCG uses min(k, R) = R
    assert ranking.precision_at_k(TRUE, PRED, k=10) == pytest.approx((3 / 10 + 1 / 10) / 2)
    u1_dcg = 1 + 1 / math.log2(4) + 1 / math.log2(5)  # hits at ranks 1, 3, 4
    u1_idcg = sum(1 / math.log2(1 + r) for r in range(1, 5))
    assert ranking.ndcg_at_k(TRUE, PRED, k=10) == pytest.approx((u1_dcg / u1_idcg + 1 / L3) / 2)


def brute_force(true: pd.DataFrame, pred: pd.DataFrame, k: int) -> dict[str, float]:
    """The definitions, user by user, in plain Python."""
    relevant: dict = {}
    for u, i in zip(true["userID"], true["itemID"], strict=True):
        relevant.setdefault(u, set()).add(i)
    lists: dict = {}
    for pos, (u, i, s) in enumerate(
        zip(pred["userID"], pred["itemID"], pred["prediction"], strict=True)
    ):
        lists.setdefault(u, []).append((-s, pos, i))
    users = [u for u in lists if u in relevant]
    sums = dict.fromkeys(HAND, 0.0)
    for u in users:
        recs = [i for _, _, i in sorted(lists[u])[:k]]
        rel = relevant[u]
        hits = [r for r, i in enumerate(recs, start=1) if i in rel]
        sums["precision_at_k"] += len(hits) / k
        sums["recall_at_k"] += len(hits) / len(rel)
        idcg = sum(1 / math.log2(1 + r) for r in range(1, min(k, len(rel)) + 1))
        sums["ndcg_at_k"] += sum(1 / math.log2(1 + r) for r in hits) / idcg
        ap = sum((n + 1) / r for n, r in enumerate(hits))
        sums["map_at_k"] += ap / min(k, len(rel))
        sums["map"] += ap / len(rel)
        sums["r_precision_at_k"] += sum(1 for r in hits if r <= len(rel)) / len(rel)
        sums["hit_ratio_at_k"] += 1.0 if hits else 0.0
        sums["mrr_at_k"] += 1 / hits[0] if hits else 0.0
    return {m: v / len(users) for m, v in sums.items()}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 3, 10, 50])
def test_matches_brute_force_on_random_data(seed, k):
    rng = np.random.default_rng(seed)
    n_users, n_items = 40, 30
    true = pd.DataFrame(
        {"userID": rng.integers(0, n_users, 600), "itemID": rng.integers(0, n_items, 600)}
    ).drop_duplicates()
    pred = pd.DataFrame(
        {
            "userID": rng.integers(5, n_users + 5, 700),  # some users in one frame
            "itemID": rng.integers(0, n_items + 10, 700),
        }
    ).drop_duplicates()
    pred["prediction"] = rng.integers(0, 5, len(pred)) / 4  # many ties
    pred = pred.sample(frac=1, random_state=seed)  # the input order breaks ties
    want = brute_force(true, pred, k)
    got = evaluate(true, pred, metrics=list(HAND), k=k)
    assert got == pytest.approx(want, abs=1e-12)


def test_string_ids_and_custom_columns():
    true = TRUE.rename(columns={"userID": "u", "itemID": "i"}).astype({"u": str, "i": str})
    pred = PRED.rename(columns={"userID": "u", "itemID": "i", "prediction": "s"}).astype(
        {"u": str, "i": str}
    )
    got = ranking.ndcg_at_k(true, pred, col_user="u", col_item="i", col_prediction="s", k=3)
    assert got == pytest.approx(HAND["ndcg_at_k"])


def test_sparse_lookup_path_agrees(monkeypatch):
    dense = evaluate(TRUE, PRED, metrics=list(HAND), k=3)
    monkeypatch.setattr(ranking, "_DENSE_LIMIT", 0)
    assert evaluate(TRUE, PRED, metrics=list(HAND), k=3) == dense
    with pytest.raises(ValueError, match="rating_true has duplicate"):
        ranking.precision_at_k(pd.concat([TRUE, TRUE.head(1)]), PRED)


def test_prediction_ids_inside_the_truth_range_but_absent_do_not_count():
    # user 3 is a gap in the truth's integer ids {1, 2, 4}: it must not count as common
    true = pd.DataFrame({"userID": [1, 2, 4], "itemID": [1, 1, 1]})
    pred = pd.DataFrame({"userID": [1, 3], "itemID": [1, 1], "prediction": [1.0, 1.0]})
    assert evaluate(true, pred, metrics=["precision_at_k", "ndcg_at_k", "map"], k=1) == {
        "precision_at_k": 1.0,
        "ndcg_at_k": 1.0,
        "map": 1.0,
    }


def test_no_common_user_gives_zero():
    assert ranking.precision_at_k(TRUE, PRED.assign(userID=99)) == 0.0


def graded_brute_force(true, pred, k, score_type, log):
    """The reference toolkit's graded nDCG, user by user: gains of the hits over
    log(1 + rank), over the same for the k largest gains of the user's relevant items."""
    gain = {"raw": lambda r: r, "exp": lambda r: 2**r - 1}[score_type]
    rating = {(u, i): r for u, i, r in zip(true.userID, true.itemID, true.rating, strict=True)}
    lists: dict = {}
    for pos, (u, i, s) in enumerate(zip(pred.userID, pred.itemID, pred.prediction, strict=True)):
        lists.setdefault(u, []).append((-s, pos, i))
    users = sorted(u for u in lists if u in set(true.userID))
    total = 0.0
    for u in users:
        recs = [i for _, _, i in sorted(lists[u])[:k]]
        dcg = sum(
            gain(rating[u, i]) / log(1 + r) for r, i in enumerate(recs, 1) if (u, i) in rating
        )
        best = sorted((gain(r) for (v, _), r in rating.items() if v == u), reverse=True)[:k]
        idcg = sum(g / log(1 + r) for r, g in enumerate(best, 1))
        total += dcg / idcg
    return total / len(users)


@pytest.mark.parametrize("score_type", ["raw", "exp"])
@pytest.mark.parametrize("discfun_type", ["loge", "log2"])
@pytest.mark.parametrize("k", [1, 5, 20])
def test_graded_ndcg_matches_a_brute_force_loop(score_type, discfun_type, k):
    rng = np.random.default_rng(k)
    true = pd.DataFrame(
        {"userID": rng.integers(0, 30, 400), "itemID": rng.integers(0, 25, 400)}
    ).drop_duplicates()
    true["rating"] = rng.integers(1, 6, len(true)).astype(float)
    pred = pd.DataFrame(
        {"userID": rng.integers(3, 33, 500), "itemID": rng.integers(0, 30, 500)}
    ).drop_duplicates()
    pred["prediction"] = rng.random(len(pred))
    log = math.log if discfun_type == "loge" else math.log2
    want = graded_brute_force(true, pred, k, score_type, log)
    got = ranking.ndcg_at_k(true, pred, k=k, score_type=score_type, discfun_type=discfun_type)
    assert got == pytest.approx(want, abs=1e-12)


def test_reference_keywords_are_accepted():
    """The reference toolkit's call, keyword for keyword."""
    kw = {"col_user": "userID", "col_item": "itemID", "col_rating": "rating"}
    for name in ranking.__all__:
        value = getattr(ranking, name)(TRUE, PRED, col_prediction="prediction", k=3, **kw)
        assert value == getattr(ranking, name)(TRUE, PRED, k=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be >= 1"),
        ({"k": 2.5}, "k must be an int"),
        ({"relevancy_method": "best"}, "relevancy_method must be one of"),
        ({"col_prediction": "score"}, r"rating_pred is missing column\(s\) \['score'\]"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ranking.map_at_k(TRUE, PRED, **kwargs)
    with pytest.raises(ValueError, match="score_type must be one of"):
        ranking.ndcg_at_k(TRUE, PRED, score_type="linear")
    with pytest.raises(ValueError, match="discfun_type must be one of"):
        ranking.ndcg_at_k(TRUE, PRED, discfun_type="log10")
    with pytest.raises(ValueError, match=r"rating_true is missing column\(s\) \['stars'\]"):
        ranking.ndcg_at_k(TRUE, PRED, score_type="raw", col_rating="stars")


def test_bad_frames():
    with pytest.raises(ValueError, match="duplicate .* among the recommendations"):
        ranking.precision_at_k(TRUE, pd.concat([PRED, PRED.head(1)]), k=3)
    with pytest.raises(ValueError, match="rating_true has duplicate"):
        ranking.precision_at_k(pd.concat([TRUE, TRUE.head(1)]), PRED, k=3)
    with pytest.raises(ValueError, match="NaN"):
        ranking.precision_at_k(TRUE, PRED.assign(prediction=np.nan))
    with pytest.raises(ValueError, match="unknown: \\['auc'\\]"):
        evaluate(TRUE, PRED, metrics=["auc"])
