"""Shared data of the Spark metric tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.split.pandas import random_split


@pytest.fixture(scope="module")
def ml100k_predictions(ml100k):
    """Real MovieLens 100k: a bias model (global + user + item offsets) fitted on train
    scores every unseen item; the top 50 per user are kept."""
    train, test = random_split(ml100k, 0.75, seed=123)
    mu = train["rating"].mean()
    user_bias = train.groupby("userID")["rating"].mean() - mu
    item_bias = (
        (train["rating"] - mu - train["userID"].map(user_bias)).groupby(train["itemID"]).mean()
    )
    users, items = user_bias.index.to_numpy(), item_bias.index.to_numpy()
    grid = pd.DataFrame(
        {"userID": np.repeat(users, len(items)), "itemID": np.tile(items, len(users))}
    )
    grid["prediction"] = (
        mu + grid["userID"].map(user_bias).to_numpy() + grid["itemID"].map(item_bias).to_numpy()
    )
    seen = grid.merge(train[["userID", "itemID"]], how="left", indicator=True)["_merge"] == "both"
    grid = grid[~seen.to_numpy()]
    top = grid.sort_values(["userID", "prediction"], ascending=[True, False], kind="stable")
    top = top.groupby("userID").head(50).reset_index(drop=True)
    return test, top, grid
