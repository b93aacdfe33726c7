"""Collaborative filtering with Spark ALS: fit, top-k recommendations, predict, save/load.

:class:`ALSRecommender` is a thin layer over ``pyspark.ml.recommendation.ALS`` that speaks the
library's column names and output shapes. :meth:`~ALSRecommender.recommend_k_items` is
computed by the executors without collecting factors to the driver: user factors (with each
user's seen items) and item factors are grouped into blocks, every (user block, item block)
pair is scored by one matrix multiplication in the executors, seen items are masked there and
only each block's k best per user leave it; with several item blocks a per-user top k merges
them. No users x items cross join, no anti join of the training pairs.

The pandas twin (:mod:`recommenders_kit.models.als.pandas`, on the ``implicit`` package) has
the same constructor, methods and output frames for data that fits one machine.

Users or items not seen in training: :meth:`predict` drops those pairs (Spark's
``coldStartStrategy="drop"``, the default) so no NaN reaches a metric; ``"nan"`` keeps them as
NaN. :meth:`recommend_k_items` returns no rows for unknown users; serve them a popularity
fallback.

Example::

    from recommenders_kit.models.als.spark import ALSRecommender
    model = ALSRecommender(rank=10, reg_param=0.05).fit(train_sdf)
    top10 = model.recommend_k_items(test_sdf, k=10)
"""

from __future__ import annotations

import functools
import json
import math
import os
import warnings
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from recommenders_kit._validate import require_positive_int, require_spark_frame, require_spark_ids
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_SEED,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import ModelFormatError
from recommenders_kit.models.als._common import (
    check_params,
    require_seen,
    top_k_block,
)
from recommenders_kit.models.base import Params, require_fitted
from recommenders_kit.models.fingerprint import Fingerprint, spark_fingerprint
from recommenders_kit.models.persistence import replacing_uri, require_committed
from recommenders_kit.spark import active_spark, driver_temp_dir, hadoop_path, is_local

if TYPE_CHECKING:
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession

__all__ = ["RECOMMENDED_TOP_K", "ALSRecommender"]

#: The library's configuration for top-k ranking on MovieLens-like explicit ratings: implicit
#: feedback (ratings as confidence), chosen on a validation split carved from the training part
#: of MovieLens 100k (stratified 75/25, then 80/20; never the test part) by a grid over rank,
#: reg_param and alpha: the smallest rank whose best validation nDCG@10 is within 0.001 of the
#: grid's best, with that rank's best setting. Spark scales reg_param by each user's and item's
#: rating count (ALS-WR), hence values unlike the one-machine engine's; the two engines' test
#: precision and nDCG@10 are within 0.01 of each other (``benchmarks/models.py``). The reference
#: quickstart's explicit settings are the constructor's defaults.
RECOMMENDED_TOP_K: dict[str, Any] = {
    "rank": 32,
    "max_iter": 15,
    "reg_param": 0.3,
    "implicit_prefs": True,
    "alpha": 0.75,
}
#: Users and items per block of the executors' top-k scoring (a block pair is a float32
#: matrix of USER_BLOCK x ITEM_BLOCK scores: 32 MiB).
USER_BLOCK, ITEM_BLOCK = 2048, 4096
_FORMAT = 2  # 2: the _COMMITTED marker


class ALSRecommender(Params):
    """Spark ALS with the library's column names; fit / predict / recommend / save / load.

    Spark ALS's own names of the parameters are in brackets.

    Args:
        rank: [rank] latent factors.
        max_iter: [maxIter] alternations.
        reg_param: [regParam] L2 regularisation, scaled by each user's (item's) number of
            ratings (ALS-WR).
        implicit_prefs: [implicitPrefs] treat ratings as confidence ``1 + alpha * rating``
            of a binary preference (Hu, Koren, Volinsky 2008) instead of values to reproduce.
        alpha: [alpha] the confidence scale of implicit feedback.
        seed: [seed] seeds the factors' initialisation.
        cold_start_strategy: [coldStartStrategy] ``"drop"`` or ``"nan"``: what
            :meth:`predict` does with a pair whose user or item was not in training.
        col_user, col_item, col_rating, col_prediction: column names (integer user and item
            ids, as Spark ALS requires).
        nonnegative: [nonnegative] non-negative factors (Spark only).
        checkpoint_interval: [checkpointInterval] checkpoint every N iterations (Spark only).
        num_blocks: [numUserBlocks, numItemBlocks] how many blocks the users and the items
            are split into; None: the session's default parallelism (a cluster's cores;
            twice the cores on a local session from
            :func:`~recommenders_kit.spark.start_or_get_spark`) rather than Spark's fixed
            10, which on a small machine spends most of a fit scheduling tasks. The factors
            depend on it: pass a number for results that do not change with the cluster's
            size (Spark only).
        checkpoint_dir: directory (local path or cloud URI) for Spark checkpoints; when None
            the session's directory is used, or on a local session a temporary one.
    """

    def __init__(
        self,
        rank: int = 10,
        max_iter: int = 15,
        reg_param: float = 0.05,
        implicit_prefs: bool = False,
        alpha: float = 1.0,
        seed: int = DEFAULT_SEED,
        cold_start_strategy: str = "drop",
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_rating: str = DEFAULT_RATING_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
        nonnegative: bool = False,
        checkpoint_interval: int = 10,
        num_blocks: int | None = None,
        checkpoint_dir: str | None = None,
    ):
        check_params(rank, max_iter, reg_param, alpha, cold_start_strategy)
        require_positive_int(checkpoint_interval, "checkpoint_interval")
        if num_blocks is not None:
            require_positive_int(num_blocks, "num_blocks")
        self.rank, self.max_iter, self.reg_param = rank, max_iter, reg_param
        self.implicit_prefs, self.alpha, self.seed = implicit_prefs, alpha, seed
        self.cold_start_strategy = cold_start_strategy
        self.col_user, self.col_item = col_user, col_item
        self.col_rating, self.col_prediction = col_rating, col_prediction
        self.nonnegative, self.checkpoint_interval = nonnegative, checkpoint_interval
        self.num_blocks, self.checkpoint_dir = num_blocks, checkpoint_dir
        self.model: ALSModel | None = None
        self.fingerprint: Fingerprint | None = None
        self.seen: SparkDataFrame | None = None

    # ------------------------------------------------------------ training

    def fit(self, train: SparkDataFrame) -> ALSRecommender:
        """Train on ``train`` (user, item, rating); returns ``self``."""
        from pyspark.ml.recommendation import ALS
        from pyspark.sql import functions as F

        self._check_ids(train, [self.col_user, self.col_item, self.col_rating], "train")
        self._ensure_checkpoint_dir(train.sparkSession)
        als = ALS(
            rank=self.rank,
            maxIter=self.max_iter,
            regParam=self.reg_param,
            implicitPrefs=self.implicit_prefs,
            alpha=self.alpha,
            nonnegative=self.nonnegative,
            seed=self.seed,
            coldStartStrategy=self.cold_start_strategy,
            checkpointInterval=self.checkpoint_interval,
            userCol=self.col_user,
            itemCol=self.col_item,
            ratingCol=self.col_rating,
        ).setPredictionCol(self.col_prediction)
        blocks = self.num_blocks or train.sparkSession.sparkContext.defaultParallelism
        als = als.setNumUserBlocks(blocks).setNumItemBlocks(blocks)
        data = train.select(
            F.col(self.col_user).cast("int"),
            F.col(self.col_item).cast("int"),
            F.col(self.col_rating).cast("float"),
        )
        self.model = als.fit(data)
        self.fingerprint = spark_fingerprint(data, self.col_user, self.col_item)
        self.seen = data.select(self.col_user, self.col_item)
        return self

    def _ensure_checkpoint_dir(self, spark: SparkSession) -> None:
        """ALS checkpoints every ``checkpoint_interval`` iterations only when Spark has a
        checkpoint directory; without one the lineage grows with each iteration until a task
        fails with StackOverflowError (seen from about 15 iterations). On a local session the
        default is a temporary folder that the driver JVM removes when it exits."""
        context = spark.sparkContext
        if self.checkpoint_dir:
            context.setCheckpointDir(self.checkpoint_dir)
        elif context.getCheckpointDir() is None:
            if is_local(spark):
                context.setCheckpointDir(driver_temp_dir(spark, "als-checkpoints"))
            else:
                warnings.warn(
                    "no Spark checkpoint directory is set: long ALS runs may fail with "
                    "StackOverflowError; pass checkpoint_dir='dbfs:/tmp/checkpoints' (or any "
                    "shared path) or call spark.sparkContext.setCheckpointDir(...)",
                    stacklevel=3,
                )

    def set_seen(self, train: SparkDataFrame) -> ALSRecommender:
        """Give a loaded model the training pairs that ``remove_seen`` leaves out."""
        require_spark_frame(train, [self.col_user, self.col_item], "train")
        self.seen = train.select(self.col_user, self.col_item)
        return self

    # ------------------------------------------------------------ scoring

    def predict(self, pairs: SparkDataFrame) -> SparkDataFrame:
        """Scores for (user, item) ``pairs``: columns user, item, prediction.

        Pairs with a user or item unseen in training are dropped (``cold_start_strategy
        "drop"``) or scored NaN (``"nan"``).
        """
        model = require_fitted(self.model, self)
        self._check_ids(pairs, [self.col_user, self.col_item], "pairs")
        return model.transform(pairs.select(self.col_user, self.col_item)).select(
            self.col_user, self.col_item, self.col_prediction
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
            Spark DataFrame (user, item, prediction), up to k rows per known user, ties
            broken by item id.
        """
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        model = require_fitted(self.model, self)
        require_positive_int(k, "k")
        require_seen(self.seen, remove_seen)
        user_blocks = self._user_blocks(model, users, remove_seen)
        n_items = require_fitted(self.fingerprint, self).items
        item_blocks = _blocks(
            model.itemFactors.select("id", "features"), math.ceil(n_items / ITEM_BLOCK)
        )
        names = [self.col_user, self.col_item, self.col_prediction]
        score = functools.partial(_score_blocks, k, names)
        schema = f"{self.col_user} int, {self.col_item} int, {self.col_prediction} float"
        recs = user_blocks.crossJoin(item_blocks).mapInArrow(score, schema)
        if n_items <= ITEM_BLOCK:
            return recs  # one item block: its top k is the top k
        by_score = Window.partitionBy(self.col_user).orderBy(
            F.col(self.col_prediction).desc(), F.col(self.col_item)
        )
        ranked = recs.withColumn("_r", F.row_number().over(by_score))
        return ranked.where(F.col("_r") <= k).drop("_r")

    def _user_blocks(
        self, model: ALSModel, users: SparkDataFrame | None, remove_seen: bool
    ) -> SparkDataFrame:
        """(block, rows of (id, features, seen items)) of the wanted users."""
        from pyspark.sql import functions as F

        factors = model.userFactors.select("id", "features")
        n_users = require_fitted(self.fingerprint, self).users
        if users is not None:
            self._check_ids(users, [self.col_user], "users")
            wanted = users.select(F.col(self.col_user).cast("int").alias("id")).distinct()
            factors = factors.join(wanted, on="id", how="left_semi")
        if remove_seen and self.seen is not None:
            seen = self.seen.groupBy(F.col(self.col_user).alias("id")).agg(
                F.collect_list(F.col(self.col_item).cast("int")).alias("seen")
            )
            factors = factors.join(seen, on="id", how="left")
        else:
            factors = factors.withColumn("seen", F.lit(None).cast("array<int>"))
        return _blocks(factors, math.ceil(n_users / USER_BLOCK), prefix="u")

    # ------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> str:
        """Save to ``path`` (local path or any Hadoop URI: dbfs:/, abfss:/, ...); returns it.

        Layout: ``path/model`` (Spark ML ALSModel), ``path/metadata`` (JSON text: the
        parameters, column names and the training-data fingerprint) and the marker
        ``path/_COMMITTED``, written last. The folder is written beside ``path`` and moved
        into place (:func:`~recommenders_kit.models.persistence.replacing_uri`): an existing
        model is replaced only with ``overwrite``, and kept if the save fails.
        """
        model = require_fitted(self.model, self)
        path = os.fspath(path)
        spark = active_spark()
        with replacing_uri(spark, path, overwrite) as staging:
            model.write().save(f"{staging}/model")
            fingerprint = asdict(require_fitted(self.fingerprint, self))
            meta = {"format": _FORMAT, "params": self.get_params(), "fingerprint": fingerprint}
            text = spark.sparkContext.parallelize([json.dumps(meta)], 1)
            text.saveAsTextFile(f"{staging}/metadata")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ALSRecommender:
        """Load a model saved by :meth:`save`; refuses a folder whose save did not finish
        or of a newer format (:class:`~recommenders_kit.errors.ModelFormatError`). Call
        :meth:`set_seen` before recommending with ``remove_seen=True``."""
        from pyspark.ml.recommendation import ALSModel

        path = os.fspath(path)
        spark = active_spark()
        fs, metadata = hadoop_path(spark, f"{path}/metadata")
        if not fs.exists(metadata):
            raise ModelFormatError(f"{path} holds no saved ALS model: {path}/metadata is missing")
        lines = spark.sparkContext.textFile(f"{path}/metadata").collect()
        if len(lines) != 1:
            raise ModelFormatError(
                f"{path}/metadata is not a recommenders_kit ALS model's metadata"
            )
        meta = json.loads(lines[0])
        if meta.get("format", 0) > _FORMAT:
            raise ModelFormatError(
                f"{path} was saved by a newer recommenders_kit (format {meta['format']})"
            )
        if meta.get("format", 0) >= 2:  # format 1 folders were written without the marker
            require_committed(spark, path)
        obj = cls(**meta["params"])
        obj.model = ALSModel.load(f"{path}/model")
        obj.fingerprint = Fingerprint(**meta["fingerprint"])
        return obj

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _check_ids(frame: SparkDataFrame, columns: list[str], name: str) -> None:
        require_spark_ids(frame, columns, name, "Spark ALS")


def _blocks(factors: SparkDataFrame, n_blocks: int, prefix: str = "i") -> SparkDataFrame:
    """``factors`` grouped into ``n_blocks`` rows: ``<prefix>_block`` and ``<prefix>_rows``."""
    from pyspark.sql import functions as F

    block = F.pmod(F.xxhash64("id"), F.lit(max(n_blocks, 1)))
    return factors.groupBy(block.alias(f"{prefix}_block")).agg(
        F.collect_list(F.struct(*factors.columns)).alias(f"{prefix}_rows")
    )


def _score_blocks(k: int, names: list[str], batches: Any) -> Any:
    """mapInArrow: for each (user block, item block) row, the k best unseen items of each
    user among the block's items."""
    import numpy as np
    import pyarrow as pa
    from scipy import sparse

    for batch in batches:
        for row in range(batch.num_rows):
            users = batch.column("u_rows")[row].values  # struct array: id, features, seen
            items = batch.column("i_rows")[row].values
            item_ids = items.field("id").to_numpy()
            order = np.argsort(item_ids, kind="stable")  # ties go to the smaller item id
            item_ids = item_ids[order]
            item_f = _matrix(items.field("features"))[order]
            user_ids = users.field("id").to_numpy()
            seen = _seen_matrix(users.field("seen"), item_ids, sparse)
            pos_u, pos_i, scores = top_k_block(_matrix(users.field("features")), item_f, seen, k)
            columns = [
                pa.array(user_ids[pos_u], pa.int32()),
                pa.array(item_ids[pos_i], pa.int32()),
                pa.array(scores, pa.float32()),
            ]
            yield pa.RecordBatch.from_arrays(columns, names=names)


def _matrix(features: Any) -> Any:
    """A list<float> Arrow array of equal-length rows as a float32 numpy matrix."""
    import numpy as np

    values = features.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    return values.reshape(len(features), -1) if len(features) else values.reshape(0, 0)


def _seen_matrix(seen: Any, item_ids: Any, sparse: Any) -> Any:
    """The (users x block items) CSR of the seen items that lie in this item block."""
    import numpy as np

    offsets = seen.offsets.to_numpy()
    flat = seen.flatten().to_numpy(zero_copy_only=False)
    rows = np.repeat(np.arange(len(seen)), np.diff(offsets))
    cols = np.searchsorted(item_ids, flat)
    inside = (cols < len(item_ids)) & (item_ids[np.minimum(cols, len(item_ids) - 1)] == flat)
    return sparse.csr_matrix(
        (np.ones(inside.sum(), dtype=bool), (rows[inside], cols[inside])),
        shape=(len(seen), len(item_ids)),
    )
