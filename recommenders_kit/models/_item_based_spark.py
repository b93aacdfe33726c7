"""The Spark body of the item-based recommenders (internal): the twins of
:class:`~recommenders_kit.models._item_based.PandasItemRecommender`.

The executors aggregate what the model needs from the training rows (a model's
``_item_scores``: per-item sums, EASE's Gram matrix); only that, at most items x items
numbers, comes to the driver, which builds the same
:class:`~recommenders_kit.models._item_based.ItemScores` as the pandas twin. Recommending
broadcasts it and scores blocks of users in the executors, each user's history grouped with
the user (no users x items cross join, no collect of the interactions): ``n_items^2 x 4``
bytes broadcast for EASE (20,000 items: 1.6 GB per executor, the ceiling of this design).
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from recommenders_kit._validate import require_positive_int, require_spark_ids
from recommenders_kit.constants import DEFAULT_K
from recommenders_kit.errors import InputError, ModelFormatError
from recommenders_kit.models._item_based import (
    USER_BLOCK,
    ItemBasedParams,
    ItemScores,
    csr,
    positions,
)
from recommenders_kit.models.base import require_fitted
from recommenders_kit.models.fingerprint import Fingerprint, spark_fingerprint
from recommenders_kit.models.persistence import replacing_uri, require_committed
from recommenders_kit.spark import active_spark, small_to_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

_FORMAT = 1


class SparkItemRecommender(ItemBasedParams):
    """The Spark body of an item-based recommender: fit / predict / recommend / save / load;
    a model adds its parameters (:class:`~recommenders_kit.models._item_based.ItemBasedParams`)
    and :meth:`_item_scores`."""

    def _init_state(self) -> None:
        self.model: ItemScores | None = None
        self.seen: SparkDataFrame | None = None  # (user, item, weight): the history
        self.fingerprint: Fingerprint | None = None

    def _item_scores(self, data: SparkDataFrame, item_ids: np.ndarray) -> ItemScores:
        """The fitted model from the training rows ``(u, i, w)`` (ids as bigint, weight as
        double) whose sorted distinct items are ``item_ids``."""
        raise NotImplementedError

    # ------------------------------------------------------------ training

    def fit(self, train: SparkDataFrame) -> Any:
        """Train on ``train``: (user, item) rows, and the rating with ``weighting="rating"``;
        returns ``self``."""
        from pyspark.sql import functions as F

        rated = self.weighting == "rating"
        data = self._weighted(train, with_rating=rated)
        items = small_to_pandas(data.select("i").distinct().orderBy("i"))["i"]
        if items.empty:
            raise InputError("data is empty: nothing to train on")
        nan = data.where(F.isnan("w")).count() if rated else 0
        if nan:
            raise InputError(f"column {self.col_rating!r} has {nan} NaN values")
        self.model = self._item_scores(data, items.to_numpy(dtype=np.int64))
        self.seen = data
        columns = [self.col_user, self.col_item] + ([self.col_rating] if rated else [])
        self.fingerprint = spark_fingerprint(train.select(columns), self.col_user, self.col_item)
        return self

    def set_seen(self, train: SparkDataFrame) -> Any:
        """Give a loaded model the training rows it scores users from (and leaves out)."""
        self.seen = self._weighted(train, with_rating=self.weighting == "rating")
        return self

    def _weighted(self, train: SparkDataFrame, with_rating: bool) -> SparkDataFrame:
        """The rows ``(u, i, w)`` of ``train``: bigint ids and the weight as double."""
        from pyspark.sql import functions as F

        columns = [self.col_user, self.col_item] + ([self.col_rating] if with_rating else [])
        self._check(train, columns, "train")
        weight = F.lit(1.0) if self.weighting == "binary" else F.col(self.col_rating)
        return train.select(
            F.col(self.col_user).cast("bigint").alias("u"),
            F.col(self.col_item).cast("bigint").alias("i"),
            weight.cast("double").alias("w"),
        )

    # ------------------------------------------------------------ scoring

    def _histories(self, users: SparkDataFrame | None) -> SparkDataFrame:
        """(u, items, weights) of the wanted users: their training history (empty lists for
        users without one, kept only by a model that scores them)."""
        from pyspark.sql import functions as F

        seen = self._require_seen()
        histories = seen.groupBy("u").agg(
            F.collect_list("i").alias("items"), F.collect_list("w").alias("weights")
        )
        if users is None:
            return histories
        self._check(users, [self.col_user], "users")
        wanted = users.select(F.col(self.col_user).cast("bigint").alias("u")).distinct()
        how = "left" if self.scores_unknown_users else "inner"
        joined = wanted.join(histories, on="u", how=how)
        empty_longs, empty_doubles = (
            F.array().cast("array<bigint>"),
            F.array().cast("array<double>"),
        )
        return joined.select(
            "u",
            F.coalesce("items", empty_longs).alias("items"),
            F.coalesce("weights", empty_doubles).alias("weights"),
        )

    def recommend_k_items(
        self, users: SparkDataFrame | None = None, k: int = DEFAULT_K, remove_seen: bool = True
    ) -> SparkDataFrame:
        """The k best items per user, computed by the executors (see the module docstring).

        Args:
            users: a DataFrame with the user column (other columns ignored); None for every
                user seen in training.
            k: list length.
            remove_seen: leave out items the user rated in the training data.

        Returns:
            Spark DataFrame (user, item, prediction), up to k rows per user, per user best
            first, ties by item id.
        """
        from pyspark.sql import functions as F

        model = require_fitted(self.model, self)
        require_positive_int(k, "k")
        histories = self._histories(users)
        n_users = require_fitted(self.fingerprint, self).users
        block = F.pmod(F.xxhash64("u"), F.lit(max(math.ceil(n_users / USER_BLOCK), 1)))
        blocks = histories.groupBy(block.alias("block")).agg(
            F.collect_list(F.struct("u", "items", "weights")).alias("rows")
        )
        shared = histories.sparkSession.sparkContext.broadcast(model)
        names = [self.col_user, self.col_item, self.col_prediction]
        score = functools.partial(_top_k_blocks, shared, k, remove_seen, names)
        schema = f"{self.col_user} bigint, {self.col_item} bigint, {self.col_prediction} float"
        return blocks.mapInArrow(score, schema)

    def predict(self, pairs: SparkDataFrame) -> SparkDataFrame:
        """Scores for (user, item) ``pairs``: columns user, item, prediction; pairs whose
        item (or, for a model that needs a history, user) was not in training are dropped."""
        from pyspark.sql import functions as F

        model = require_fitted(self.model, self)
        self._check(pairs, [self.col_user, self.col_item], "pairs")
        asked = pairs.select(
            F.col(self.col_user).cast("bigint").alias("u"),
            F.col(self.col_item).cast("bigint").alias("item"),
        )
        histories = self._histories(asked.select(F.col("u").alias(self.col_user)))
        shared = asked.sparkSession.sparkContext.broadcast(model)
        names = [self.col_user, self.col_item, self.col_prediction]
        schema = f"{self.col_user} bigint, {self.col_item} bigint, {self.col_prediction} float"
        score = functools.partial(_pair_scores, shared, names)
        return asked.join(histories, on="u").mapInArrow(score, schema)

    # ------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> str:
        """Save to ``path`` (local path or any Hadoop URI); returns it. Layout: ``items``
        (parquet: item, bias, weights: the model's arrays, one row per item), ``metadata``
        (JSON text: kind, parameters, fingerprint) and the marker ``_COMMITTED``, written
        last; an existing model is replaced only with ``overwrite``, and kept if the save
        fails. The training rows are not saved: call :meth:`set_seen` after :meth:`load`."""
        import pandas as pd

        model = require_fitted(self.model, self)
        path = os.fspath(path)
        spark = active_spark()
        rows = pd.DataFrame({"item": model.item_ids})
        rows["bias"] = None if model.bias is None else model.bias.astype(np.float64)
        rows["weights"] = None if model.weights is None else list(model.weights.T)
        schema = "item bigint, bias double, weights array<float>"
        with replacing_uri(spark, path, overwrite) as staging:
            spark.createDataFrame(rows, schema).coalesce(1).write.parquet(f"{staging}/items")
            fingerprint = asdict(require_fitted(self.fingerprint, self))
            meta = {"format": _FORMAT, "kind": self.KIND, "params": self.get_params()}
            text = json.dumps({**meta, "fingerprint": fingerprint})
            spark.sparkContext.parallelize([text], 1).saveAsTextFile(f"{staging}/metadata")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Any:
        """Load a model saved by :meth:`save`; refuses another kind, a newer format or a
        folder whose save did not finish (:class:`~recommenders_kit.errors.ModelFormatError`).
        Call :meth:`set_seen` before recommending."""
        path = os.fspath(path)
        spark = active_spark()
        require_committed(spark, path)
        lines = spark.sparkContext.textFile(f"{path}/metadata").collect()
        meta = json.loads(lines[0]) if len(lines) == 1 else {}
        if meta.get("kind") != cls.KIND or meta.get("format", 0) > _FORMAT:
            raise ModelFormatError(
                f"{path} holds no {cls.KIND} model of format {_FORMAT} or older "
                f"(found {meta.get('kind')}, format {meta.get('format')})"
            )
        rows = small_to_pandas(spark.read.parquet(f"{path}/items").orderBy("item"))
        bias = None if rows["bias"].isna().all() else rows["bias"].to_numpy(np.float32)
        weights = None
        if rows["weights"].notna().all():
            weights = np.stack(rows["weights"].to_numpy()).astype(np.float32).T.copy()
        obj = cls(**meta["params"])
        obj.model = ItemScores(rows["item"].to_numpy(np.int64), weights, bias)
        obj.fingerprint = Fingerprint(**meta["fingerprint"])
        return obj

    # ------------------------------------------------------------ helpers

    def _require_seen(self) -> SparkDataFrame:
        if self.seen is None:
            raise InputError(
                f"the {type(self).__name__} has no training rows (loaded without them): "
                "call set_seen(train) first"
            )
        return self.seen

    def _check(self, frame: SparkDataFrame, columns: list[str], name: str) -> None:
        require_spark_ids(frame, columns, name, type(self).__name__)


def _history_matrix(items: Any, weights: Any, item_ids: np.ndarray) -> Any:
    """The float32 CSR (one row per list) of Arrow list arrays of item ids and weights, over
    the model's item positions (items the model does not know left out)."""
    rows = np.repeat(np.arange(len(items)), np.diff(items.offsets.to_numpy()))
    cols = positions(item_ids, items.flatten().to_numpy(zero_copy_only=False))
    values = weights.flatten().to_numpy(zero_copy_only=False)
    known = cols >= 0
    return csr(values[known], rows[known], cols[known], (len(items), len(item_ids)))


def _top_k_blocks(shared: Any, k: int, remove_seen: bool, names: list[str], batches: Any) -> Any:
    """mapInArrow: each block of users' k best items."""
    import pyarrow as pa

    model: ItemScores = shared.value
    for batch in batches:
        for row in range(batch.num_rows):
            users = batch.column("rows")[row].values  # struct array: u, items, weights
            history = _history_matrix(users.field("items"), users.field("weights"), model.item_ids)
            rows, items, scores = model.top_k(history, history if remove_seen else None, k)
            columns = [
                pa.array(users.field("u").to_numpy()[rows], pa.int64()),
                pa.array(model.item_ids[items], pa.int64()),
                pa.array(scores, pa.float32()),
            ]
            yield pa.RecordBatch.from_arrays(columns, names=names)


def _pair_scores(shared: Any, names: list[str], batches: Any) -> Any:
    """mapInArrow: the score of each (user, item) row from the user's history."""
    import pyarrow as pa

    model: ItemScores = shared.value
    for batch in batches:
        item = batch.column("item").to_numpy()
        cols = positions(model.item_ids, item)
        known = cols >= 0
        history = _history_matrix(batch.column("items"), batch.column("weights"), model.item_ids)
        scores = model.pair_scores(history[known], cols[known])
        columns = [
            pa.array(batch.column("u").to_numpy()[known], pa.int64()),
            pa.array(item[known], pa.int64()),
            pa.array(scores, pa.float32()),
        ]
        yield pa.RecordBatch.from_arrays(columns, names=names)
