"""Collaborative filtering with Spark ALS: fit, top-k recommendations, predict, save/load.

:class:`ALSRecommender` is a thin layer over ``pyspark.ml.recommendation.ALS`` that speaks the
library's column names and output shapes:

* :meth:`~ALSRecommender.recommend_k_items` returns ``(user, item, prediction)`` rows, the k
  best unseen items per user, as a Spark DataFrame computed by the executors: Spark's blocked
  ``recommendForUserSubset`` (no users x items cross join of predictions), asked for
  ``k + (items the user has seen)`` items, rounded up to a power of two so that users are
  handled in a few groups; seen items are then removed with an anti join.
* :meth:`~ALSRecommender.recommend_k_items_local` is the fast path for data that fits one
  machine: the factors are collected once as numpy arrays, scores are computed by blocked
  matrix multiplication, seen items masked and the top k taken with ``argpartition``. It
  returns the same lists (up to float ties) as a pandas DataFrame.

Users or items not seen in training: :meth:`predict` drops those pairs (Spark's
``coldStartStrategy="drop"``, the default) so no NaN reaches a metric; ``"nan"`` keeps them as
NaN. :meth:`recommend_k_items` returns no rows for unknown users; serve them a popularity
fallback.

Example:
    >>> from recommenders_kit.models.als import ALSRecommender
    >>> model = ALSRecommender(rank=10, reg_param=0.05).fit(train_sdf)  # doctest: +SKIP
    >>> top10 = model.recommend_k_items(test_sdf, k=10)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_choice, require_positive_int, require_spark_frame
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_SEED,
    DEFAULT_USER_COL,
)

if TYPE_CHECKING:
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame as SparkDataFrame

COLD_START_STRATEGIES = ("drop", "nan")


@dataclass(frozen=True)
class ALSParams:
    """Training parameters (Spark ALS names in brackets).

    rank [rank]: latent factors. max_iter [maxIter]: alternations. reg_param [regParam]: L2
    regularisation. implicit_prefs [implicitPrefs]: treat ratings as confidence of a binary
    preference (Hu, Koren, Volinsky 2008) instead of values to reproduce. alpha [alpha]:
    confidence scale for implicit feedback. nonnegative [nonnegative]: non-negative factors.
    seed [seed]. cold_start_strategy [coldStartStrategy]: ``"drop"`` or ``"nan"``.
    checkpoint_interval [checkpointInterval]: checkpoint every N iterations when a checkpoint
    directory is set (long runs otherwise build a lineage deep enough to overflow the stack).
    num_blocks [numUserBlocks, numItemBlocks]: None lets Spark choose.
    """

    rank: int = 10
    max_iter: int = 15
    reg_param: float = 0.05
    implicit_prefs: bool = False
    alpha: float = 1.0
    nonnegative: bool = False
    seed: int = DEFAULT_SEED
    cold_start_strategy: str = "drop"
    checkpoint_interval: int = 10
    num_blocks: int | None = None

    def __post_init__(self) -> None:
        require_positive_int(self.rank, "rank")
        require_positive_int(self.max_iter, "max_iter")
        require_positive_int(self.checkpoint_interval, "checkpoint_interval")
        if not self.reg_param >= 0:
            raise ValueError(f"reg_param must be >= 0, got {self.reg_param}")
        if not self.alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        require_choice(self.cold_start_strategy, COLD_START_STRATEGIES, "cold_start_strategy")
        if self.num_blocks is not None:
            require_positive_int(self.num_blocks, "num_blocks")


#: The library's configuration for top-k ranking on MovieLens-like explicit ratings: implicit
#: feedback (ratings as confidence), chosen by a sweep on MovieLens 100k (see the quickstart
#: notebook). The reference quickstart's explicit settings are ``ALSParams()``'s defaults.
RECOMMENDED_TOP_K = dict(rank=20, max_iter=15, reg_param=0.1, implicit_prefs=True, alpha=1.0)


class ALSRecommender:
    """Spark ALS with the library's column names; fit / predict / recommend / save / load.

    Args:
        col_user, col_item, col_rating, col_prediction: column names (integer user and item
            ids, as Spark ALS requires).
        checkpoint_dir: directory (local path or cloud URI) for Spark checkpoints; when None
            the session's directory is used, or on a local session a temporary one.
        **params: :class:`ALSParams` fields.
    """

    def __init__(
        self,
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_rating: str = DEFAULT_RATING_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
        checkpoint_dir: str | None = None,
        **params: Any,
    ):
        self.params = ALSParams(**params)
        self.col_user, self.col_item = col_user, col_item
        self.col_rating, self.col_prediction = col_rating, col_prediction
        self.checkpoint_dir = checkpoint_dir
        self.model: ALSModel | None = None
        self.fingerprint: dict[str, Any] | None = None
        self._seen: SparkDataFrame | None = None
        self._local: dict[str, Any] | None = None

    # ------------------------------------------------------------ training

    def fit(self, train: SparkDataFrame) -> ALSRecommender:
        """Train on ``train`` (user, item, rating); returns ``self``."""
        from pyspark.ml.recommendation import ALS
        from pyspark.sql import functions as F

        self._check(train, [self.col_user, self.col_item, self.col_rating], "train")
        spark = train.sparkSession
        p = self.params
        self._ensure_checkpoint_dir(spark)
        als = ALS(
            rank=p.rank,
            maxIter=p.max_iter,
            regParam=p.reg_param,
            implicitPrefs=p.implicit_prefs,
            alpha=p.alpha,
            nonnegative=p.nonnegative,
            seed=p.seed,
            coldStartStrategy=p.cold_start_strategy,
            checkpointInterval=p.checkpoint_interval,
            userCol=self.col_user,
            itemCol=self.col_item,
            ratingCol=self.col_rating,
        ).setPredictionCol(self.col_prediction)
        if p.num_blocks:
            als = als.setNumUserBlocks(p.num_blocks).setNumItemBlocks(p.num_blocks)
        data = train.select(
            F.col(self.col_user).cast("int"),
            F.col(self.col_item).cast("int"),
            F.col(self.col_rating).cast("float"),
        )
        self.model = als.fit(data)
        self.fingerprint = self._fingerprint(data)
        self._seen = data.select(self.col_user, self.col_item)
        self._local = None
        return self

    def _ensure_checkpoint_dir(self, spark) -> None:
        """ALS checkpoints every ``checkpoint_interval`` iterations only when Spark has a
        checkpoint directory; without one the lineage grows with each iteration until a task
        fails with StackOverflowError (seen from about 15 iterations)."""
        context = spark.sparkContext
        if self.checkpoint_dir:
            context.setCheckpointDir(self.checkpoint_dir)
        elif context.getCheckpointDir() is None:
            if context.master.startswith("local"):
                context.setCheckpointDir(tempfile.mkdtemp(prefix="als-checkpoints-"))
            else:
                warnings.warn(
                    "no Spark checkpoint directory is set: long ALS runs may fail with "
                    "StackOverflowError; pass checkpoint_dir='dbfs:/tmp/checkpoints' (or any "
                    "shared path) or call spark.sparkContext.setCheckpointDir(...)",
                    stacklevel=3,
                )

    def _fingerprint(self, data: SparkDataFrame) -> dict[str, Any]:
        """Size and an order-independent hash of the training data, stored with the model."""
        from pyspark.sql import functions as F

        row = data.agg(
            F.count(F.lit(1)).alias("rows"),
            F.countDistinct(self.col_user).alias("users"),
            F.countDistinct(self.col_item).alias("items"),
            F.sum(F.xxhash64(*data.columns) % (1 << 31)).alias("hash"),
        ).first()
        return {k: int(row[k] or 0) for k in ("rows", "users", "items", "hash")}

    # ------------------------------------------------------------ scoring

    def predict(self, pairs: SparkDataFrame) -> SparkDataFrame:
        """Scores for (user, item) ``pairs``: columns user, item, prediction.

        Pairs with a user or item unseen in training are dropped (``cold_start_strategy
        "drop"``) or scored NaN (``"nan"``).
        """
        model = self._fitted()
        self._check(pairs, [self.col_user, self.col_item], "pairs")
        return model.transform(pairs.select(self.col_user, self.col_item)).select(
            self.col_user, self.col_item, self.col_prediction
        )

    def recommend_k_items(
        self, users: SparkDataFrame | None = None, k: int = 10, remove_seen: bool = True
    ) -> SparkDataFrame:
        """The k best items per user, computed by the executors.

        Args:
            users: a DataFrame with the user column (other columns ignored); None for every
                user seen in training.
            k: list length.
            remove_seen: leave out items the user rated in the training data.

        Returns:
            Spark DataFrame (user, item, prediction), up to k rows per known user.
        """
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        model = self._fitted()
        require_positive_int(k, "k")
        user_col, item_col, pred_col = self.col_user, self.col_item, self.col_prediction
        if users is None:
            wanted = model.userFactors.select(F.col("id").alias(user_col))
        else:
            self._check(users, [user_col], "users")
            wanted = users.select(F.col(user_col).cast("int")).distinct()
        if not remove_seen:
            return self._explode(model.recommendForUserSubset(wanted, k))
        counts = self._seen.groupBy(user_col).agg(F.count(F.lit(1)).alias("_seen"))
        wanted = wanted.join(counts, on=user_col, how="left").fillna(0, subset=["_seen"])
        wanted = wanted.withColumn(
            "_bucket", F.ceil(F.log2(F.col("_seen") + F.lit(k))).cast("int")
        ).cache()  # one small row per user, read once per bucket below
        buckets = [r[0] for r in wanted.select("_bucket").distinct().collect()]
        parts = []
        for b in sorted(buckets):
            subset = wanted.where(F.col("_bucket") == b).select(user_col)
            parts.append(self._explode(model.recommendForUserSubset(subset, 2**b)))
        recs = parts[0]
        for part in parts[1:]:
            recs = recs.unionByName(part)
        recs = recs.join(self._seen, on=[user_col, item_col], how="left_anti")
        by_score = Window.partitionBy(user_col).orderBy(F.col(pred_col).desc(), F.col(item_col))
        return (
            recs.withColumn("_rank", F.row_number().over(by_score))
            .where(F.col("_rank") <= k)
            .drop("_rank")
        )

    def _explode(self, recs: SparkDataFrame) -> SparkDataFrame:
        from pyspark.sql import functions as F

        return recs.select(self.col_user, F.explode("recommendations").alias("_r")).select(
            self.col_user,
            F.col(f"_r.{self.col_item}").alias(self.col_item),
            F.col("_r.rating").alias(self.col_prediction),
        )

    def recommend_k_items_local(
        self,
        users: pd.Series | np.ndarray | list | None = None,
        k: int = 10,
        remove_seen: bool = True,
        block_size: int = 2048,
    ) -> pd.DataFrame:
        """The fast path for one machine: the same lists as :meth:`recommend_k_items`, in pandas.

        The user and item factors (and, with ``remove_seen``, the training pairs) are
        collected to the driver once and cached; scores are computed ``block_size`` users at
        a time (a ``block_size x items`` float32 matrix), seen items set to ``-inf`` and the
        top k found with ``argpartition``. Rows are sorted by user, then score descending
        (ties by item id).
        """
        require_positive_int(k, "k")
        require_positive_int(block_size, "block_size")
        local = self._local_factors(remove_seen)
        user_ids, item_ids = local["user_ids"], local["item_ids"]
        rows = (
            np.arange(len(user_ids))
            if users is None
            else (pd.Index(user_ids).get_indexer(pd.unique(np.asarray(users))))
        )
        rows = rows[rows >= 0]
        k_eff = min(k, len(item_ids))
        out_users, out_items, out_scores = [], [], []
        for start in range(0, len(rows), block_size):
            block = rows[start : start + block_size]
            scores = local["user_factors"][block] @ local["item_factors"].T
            if remove_seen:
                seen = local["seen"][block]
                r, c = seen.nonzero()
                scores[r, c] = -np.inf
            top = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
            top_scores = np.take_along_axis(scores, top, axis=1)
            order = np.lexsort((item_ids[top], -top_scores), axis=1)
            top = np.take_along_axis(top, order, axis=1)
            top_scores = np.take_along_axis(top_scores, order, axis=1)
            valid = np.isfinite(top_scores)
            out_users.append(np.repeat(user_ids[block], k_eff)[valid.ravel()])
            out_items.append(item_ids[top][valid])
            out_scores.append(top_scores[valid])
        return pd.DataFrame(
            {
                self.col_user: np.concatenate(out_users)
                if out_users
                else np.array([], dtype=np.int64),
                self.col_item: np.concatenate(out_items)
                if out_items
                else np.array([], dtype=np.int64),
                self.col_prediction: np.concatenate(out_scores)
                if out_scores
                else np.array([], dtype=np.float32),
            }
        )

    def _local_factors(self, with_seen: bool) -> dict[str, Any]:
        from scipy import sparse

        model = self._fitted()
        if self._local is None:
            uf = model.userFactors.orderBy("id").toPandas()
            itf = model.itemFactors.orderBy("id").toPandas()
            self._local = {
                "user_ids": uf["id"].to_numpy(),
                "item_ids": itf["id"].to_numpy(),
                "user_factors": np.array(uf["features"].tolist(), dtype=np.float32),
                "item_factors": np.array(itf["features"].tolist(), dtype=np.float32),
            }
        if with_seen and "seen" not in self._local:
            if self._seen is None:
                raise ValueError(
                    "the training pairs are unknown (model loaded without them): "
                    "use remove_seen=False or call set_seen(train)"
                )
            seen = self._seen.toPandas()
            rows = pd.Index(self._local["user_ids"]).get_indexer(seen[self.col_user])
            cols = pd.Index(self._local["item_ids"]).get_indexer(seen[self.col_item])
            ok = (rows >= 0) & (cols >= 0)
            self._local["seen"] = sparse.csr_matrix(
                (np.ones(ok.sum(), dtype=bool), (rows[ok], cols[ok])),
                shape=(len(self._local["user_ids"]), len(self._local["item_ids"])),
            )
        return self._local

    def set_seen(self, train: SparkDataFrame) -> ALSRecommender:
        """Give a loaded model the training pairs that ``remove_seen`` filters out."""
        self._check(train, [self.col_user, self.col_item], "train")
        self._seen = train.select(self.col_user, self.col_item)
        if self._local:
            self._local.pop("seen", None)
        return self

    # ------------------------------------------------------------ persistence

    def save(self, path: str, overwrite: bool = False) -> None:
        """Save to ``path`` (local path or any Hadoop URI: dbfs:/, abfss://, ...).

        Layout: ``path/model`` (Spark ML ALSModel) and ``path/metadata`` (JSON text: the
        parameters, column names and the training-data fingerprint).
        """
        model = self._fitted()
        writer = model.write().overwrite() if overwrite else model.write()
        writer.save(f"{path}/model")
        meta = {
            "params": asdict(self.params),
            "columns": {
                "user": self.col_user,
                "item": self.col_item,
                "rating": self.col_rating,
                "prediction": self.col_prediction,
            },
            "fingerprint": self.fingerprint,
            "format": 1,
        }
        spark = self._seen.sparkSession if self._seen is not None else _active_spark()
        text = spark.sparkContext.parallelize([json.dumps(meta)], 1)
        if overwrite:
            _delete(spark, f"{path}/metadata")
        text.saveAsTextFile(f"{path}/metadata")

    @classmethod
    def load(cls, path: str) -> ALSRecommender:
        """Load a model saved by :meth:`save`. Call :meth:`set_seen` before recommending
        with ``remove_seen=True``."""
        from pyspark.ml.recommendation import ALSModel

        spark = _active_spark()
        lines = spark.sparkContext.textFile(f"{path}/metadata").collect()
        if len(lines) != 1:
            raise ValueError(f"{path}/metadata is not a recommenders_kit ALS model's metadata")
        meta = json.loads(lines[0])
        cols = meta["columns"]
        obj = cls(
            col_user=cols["user"],
            col_item=cols["item"],
            col_rating=cols["rating"],
            col_prediction=cols["prediction"],
            **meta["params"],
        )
        obj.model = ALSModel.load(f"{path}/model")
        obj.fingerprint = meta["fingerprint"]
        return obj

    # ------------------------------------------------------------ helpers

    def _fitted(self) -> ALSModel:
        if self.model is None:
            raise RuntimeError("the model is not fitted: call fit(train) or load(path) first")
        return self.model

    @staticmethod
    def _check(frame, columns: list[str], name: str) -> None:
        require_spark_frame(frame, columns, name)


def _active_spark():
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        raise RuntimeError("no active Spark session: start one with start_or_get_spark()")
    return spark


def _delete(spark, uri: str) -> None:
    jvm = spark.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(uri)
    target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(target, True)
