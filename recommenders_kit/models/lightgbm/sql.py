"""A click model as Spark SQL: its encoders and LightGBM trees as expressions that run in the
JVM, and a Spark ML pipeline made of them (no Python when either runs).

A :class:`ClickSQL` is built once, on the driver, from a fitted click model of either engine;
it writes the model as SQL text over any expressions of the raw input values:

* :meth:`ClickSQL.position`: a categorical value's position among its column's kept values
  (NULL: missing, -1: rare or unseen), looked up in a hash table written as literal arrays
  (buckets chosen with Spark's own ``hash``, so the lookup costs one short array scan however
  many values a column keeps);
* :meth:`ClickSQL.features`: every encoded feature, in ``encoder.feature_names`` order, from the
  numeric values and those positions (the numbers of the encoder's ``transform``);
* :meth:`ClickSQL.probability`: the click probability of a row's features, LightGBM's trees
  as nested ``CASE`` expressions, summed in tree order and put through the sigmoid (LightGBM's
  own arithmetic, so the probabilities are those of ``lightgbm.Booster.predict``).

:func:`spark_pipeline` uses the first two in a ``SQLTransformer`` and scores with SynapseML's
``LightGBMClassificationModel``; the Spark Serving query
(:mod:`recommenders_kit.serving.spark_serving`) uses all three inside a higher-order function
over a request's rows, which Spark's continuous mode allows (it cannot turn one request into
several rows and gather them back).

Sizes: the SQL holds each kept value once per lookup and one double per value and method, and
one ``CASE`` branch per tree node: a few MB for hundreds of trees of 63 leaves. Spark parses it
once, when the query or pipeline is planned.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from recommenders_kit.errors import InputError, ModelFormatError
from recommenders_kit.models.base import require_fitted
from recommenders_kit.models.lightgbm._encoder import SUFFIX, EncoderStats

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel
    from pyspark.sql import SparkSession

#: Columns the pipeline adds besides SynapseML's ``rawPrediction``, ``probability`` (a vector:
#: ``[1 - p, p]``) and ``prediction``: the encoded features (``_rk_f_<feature>``), the
#: categorical positions (``_rk_pos_<column>``) and their vector ``_rk_features``.
FEATURE_PREFIX, POSITION_PREFIX, FEATURES_COL = "_rk_f_", "_rk_pos_", "_rk_features"
#: Values per hash bucket of a lookup, on average.
BUCKET_SIZE = 4
#: Trees added in one chain of ``+`` (see :meth:`ClickSQL.probability`).
TREES_PER_CHAIN = 100
_ZERO_THRESHOLD = 1.0000000180025095e-35  # LightGBM's kZeroThreshold (1e-35f)
_CATEGORICAL, _DEFAULT_LEFT = 1, 2
_MISSING_ZERO, _MISSING_NAN = 1, 2


def double(value: float) -> str:
    """A SQL literal of exactly this double (``NaN`` included)."""
    if math.isnan(value):
        return "double('NaN')"
    if math.isinf(value):
        return "double('Infinity')" if value > 0 else "double('-Infinity')"
    return f"{float(value)!r}D"


def string(value: str) -> str:
    """A SQL string literal of ``value`` (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quoted(name: str) -> str:
    """A column name as a SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


# ---------------------------------------------------------------- LightGBM's trees


@dataclasses.dataclass(frozen=True)
class _Tree:
    leaf_value: list[float]
    split_feature: list[int]
    threshold: list[float]
    decision_type: list[int]
    left_child: list[int]
    right_child: list[int]
    cat_boundaries: list[int]
    cat_threshold: list[int]

    def node(self, i: int, feature: Callable[[int], str]) -> str:
        """SQL of node ``i`` (a child index: negative for leaf ``~i``)."""
        if i < 0:
            return double(self.leaf_value[~i])
        left = self.node(self.left_child[i], feature)
        right = self.node(self.right_child[i], feature)
        value = feature(self.split_feature[i])
        return f"IF({self._goes_left(i, value)}, {left}, {right})"

    def _goes_left(self, i: int, value: str) -> str:
        """SQL of LightGBM's decision at node ``i`` for the feature ``value``, written with as
        few operations as Spark's semantics allow (the trees run interpreted inside a lambda:
        each operation counts). Spark orders NaN above every number, so ``NaN <= t`` is false:
        a NaN that goes right needs no test of its own."""
        kind, threshold = self.decision_type[i], self.threshold[i]
        if kind & _CATEGORICAL:  # NaN and negative codes go right
            k = int(threshold)
            words = self.cat_threshold[self.cat_boundaries[k] : self.cat_boundaries[k + 1]]
            codes = [32 * w + b for w, word in enumerate(words) for b in range(32) if word >> b & 1]
            if not codes:
                return "false"
            member = f"CAST({value} AS INT) IN ({', '.join(map(str, codes))})"
            # Spark casts NaN to 0 (and -0.5 to 0, as LightGBM's int() does)
            return f"(NOT isnan({value}) AND {member})" if 0 in codes else member
        missing, default_left = kind >> 2 & 3, bool(kind & _DEFAULT_LEFT)
        below = f"{value} <= {double(threshold)}"
        if missing == _MISSING_NAN:
            return f"({below} OR isnan({value}))" if default_left else below
        if missing == _MISSING_ZERO:  # LightGBM reads NaN as 0 here: a zero, so missing
            zero = double(_ZERO_THRESHOLD)
            is_missing = f"(isnan({value}) OR {value} BETWEEN -{zero} AND {zero})"
            if default_left:
                return f"({is_missing} OR {below})"
            return f"(NOT {is_missing} AND {below})"
        # no missing value: LightGBM reads NaN as 0, which goes left when 0 <= threshold
        return f"({below} OR isnan({value}))" if threshold >= 0 else below


def _trees(model_text: str) -> tuple[float, list[_Tree]]:
    """(the sigmoid's scale, the trees) of a binary LightGBM text model."""
    header, _, body = model_text.partition("\nTree=")
    objective = re.search(r"^objective=(.*)$", header, re.M)
    if not objective or not objective.group(1).startswith("binary"):
        raise ModelFormatError("not a binary LightGBM text model (objective=binary ...)")
    scale = re.search(r"sigmoid:(\S+)", objective.group(1))
    blocks = ("Tree=" + body).split("end of trees")[0].split("\nTree=")
    trees = []
    for block in blocks:
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)

        def numbers(key: str, kind: type = float, f: Mapping[str, str] = fields) -> list:
            return [kind(v) for v in f.get(key, "").split()]

        trees.append(
            _Tree(
                numbers("leaf_value"),
                numbers("split_feature", int),
                numbers("threshold"),
                numbers("decision_type", int),
                numbers("left_child", int),
                numbers("right_child", int),
                numbers("cat_boundaries", int),
                numbers("cat_threshold", int),
            )
        )
    return float(scale.group(1)) if scale else 1.0, trees


# ---------------------------------------------------------------- the model as SQL


class ClickSQL:
    """A fitted click model (either engine) as Spark SQL text; see the module docstring.

    ``spark``: a session, used once to place each kept value in its hash bucket with Spark's
    ``hash`` (the function the lookups evaluate). Example (the pipeline's own use)::

        sql = ClickSQL(LightGBMClickModel.load("models/criteo"), spark)
        positions = {c: sql.position(c, f"`{c}`") for c in sql.stats.columns}
    """

    def __init__(self, model: Any, spark: SparkSession):
        self.stats: EncoderStats = require_fitted(model.encoder.stats, model.encoder)
        self.model_text: str = model.model_text()
        self.scale, self.trees = _trees(self.model_text)
        self.feature_names = self.stats.feature_names
        self._tables = _hash_tables(spark, self.stats)

    def position(self, column: str, value: str) -> str:
        """SQL of the position of the string ``value`` among ``column``'s kept values: NULL
        when missing, -1 when rare or unseen, else 0 ...; ``value`` is evaluated three times
        (give a column or a lambda variable, not a costly expression)."""
        if column not in self._tables:
            raise InputError(f"{column!r} is not a categorical column of this model")
        values, positions, n_buckets = self._tables[column]
        bucket = f"pmod(hash({value}), {n_buckets}) + 1"
        found = f"CAST(nullif(array_position(element_at({values}, {bucket}), {value}), 0) AS INT)"
        return (
            f"CASE WHEN {value} IS NULL THEN NULL "
            f"ELSE coalesce(element_at(element_at({positions}, {bucket}), {found}), -1) END"
        )

    def features(self, numeric: Callable[[str], str], position: Callable[[str], str]) -> list[str]:
        """SQL of each encoded feature (a double), in ``feature_names`` order, from the SQL of
        each numeric column's value (a double, NaN when missing) and of each categorical
        column's :meth:`position`."""
        out = {c: numeric(c) for c in self.stats.numeric_cols}
        for col, methods in self.stats.features.items():
            pos = position(col)
            n = len(self.stats.columns[col].values)
            for method in self.stats.methods:
                values, if_missing = methods[method]
                table = "array(" + ", ".join(map(double, values)) + ")"
                out[col + SUFFIX[method]] = (
                    f"CASE WHEN {pos} IS NULL THEN {double(if_missing)} "
                    f"ELSE element_at({table}, IF({pos} < 0, {n}, {pos}) + 1) END"
                )
        return [out[name] for name in self.feature_names]

    def probability(self, feature: Callable[[int], str]) -> str:
        """SQL of the click probability, from the SQL of feature ``j`` (by position in
        ``feature_names``): the trees' outputs added one by one in tree order, from 0 (as
        LightGBM adds them: the same rounding), then the sigmoid. The sum is written as
        chains of :data:`TREES_PER_CHAIN` additions (a longer chain is a deeper expression
        than Spark's parser and optimizer recurse through comfortably)."""
        outputs = [
            tree.node(0, feature) if tree.split_feature else double(tree.leaf_value[0])
            for tree in self.trees
        ]
        chains = [outputs[i : i + TREES_PER_CHAIN] for i in range(0, len(outputs), TREES_PER_CHAIN)]
        if len(chains) == 1:
            raw = " + ".join(["0D", *outputs])
        else:
            steps = " ".join(
                f"WHEN {i} THEN {' + '.join(['total', *chain])}" for i, chain in enumerate(chains)
            )
            raw = f"aggregate(sequence(0, {len(chains) - 1}), 0D, (total, g) -> CASE g {steps} END)"
        return f"1D / (1D + exp({double(-self.scale)} * ({raw})))"


def _hash_tables(spark: SparkSession, stats: EncoderStats) -> dict[str, tuple[str, str, int]]:
    """Per categorical column: (SQL array of buckets of kept values, SQL array of the same
    buckets' positions, bucket count); a value's bucket is ``pmod(hash(value), count)``."""
    from pyspark.sql import functions as F

    counts = {c: max(1, len(s.values) // BUCKET_SIZE) for c, s in stats.columns.items()}
    rows = [(c, v, i, counts[c]) for c, s in stats.columns.items() for i, v in enumerate(s.values)]
    placed = spark.createDataFrame(rows, "col string, v string, i int, n int").select(
        "col", "v", "i", F.pmod(F.hash("v"), F.col("n")).alias("b")
    )
    buckets: dict[str, list[list[tuple[str, int]]]] = {
        c: [[] for _ in range(n)] for c, n in counts.items()
    }
    for row in placed.toLocalIterator():
        buckets[row["col"]][row["b"]].append((row["v"], row["i"]))
    tables = {}
    for col, table in buckets.items():
        values = ", ".join("array(" + ", ".join(string(v) for v, _ in b) + ")" for b in table)
        positions = ", ".join("array(" + ", ".join(str(i) for _, i in b) + ")" for b in table)
        typed = "CAST(array({}) AS array<array<{}>>)"
        tables[col] = (typed.format(values, "string"), typed.format(positions, "int"), counts[col])
    return tables


# ---------------------------------------------------------------- the pipeline


def spark_pipeline(model: Any, spark: SparkSession) -> PipelineModel:
    """A fitted click model (either engine) as a ``PipelineModel`` of JVM stages: a
    ``SQLTransformer`` that encodes the raw columns, a ``VectorAssembler`` and SynapseML's
    ``LightGBMClassificationModel`` loaded from the model's text. It reads the raw input
    columns (numbers; strings for the categorical ones, NULL when missing) and adds
    ``probability`` (a vector, ``[1 - p, p]``: Spark ML's convention;
    :func:`click_probability` reads ``p``), ``rawPrediction``, ``prediction`` and the columns
    named in :data:`FEATURE_PREFIX`. It saves and loads with MLlib persistence
    (``pipeline.write().save(path)``, ``PipelineModel.load(path)`` from Python, Scala or
    Java; the session needs the SynapseML jars), and needs no Python when it runs. A frame of
    local rows (``spark.createDataFrame(pandas_frame)``) is scored by the driver's optimizer,
    interpreted, far slower than by the executors: ``repartition`` it first.

    Example::

        pipeline = spark_pipeline(LightGBMClickModel.load("models/criteo"), spark)
        scored = pipeline.transform(frame).select(click_probability())
        pipeline.write().save("dbfs:/models/criteo-pipeline")
    """
    from pyspark.ml import PipelineModel
    from pyspark.ml.feature import SQLTransformer, VectorAssembler
    from synapse.ml.lightgbm import LightGBMClassificationModel

    sql = ClickSQL(model, spark)
    stats = sql.stats
    positions = ", ".join(
        f"{sql.position(c, quoted(c))} AS {quoted(POSITION_PREFIX + c)}" for c in stats.columns
    )
    features = sql.features(
        lambda c: f"coalesce(CAST({quoted(c)} AS DOUBLE), double('NaN'))",
        lambda c: quoted(POSITION_PREFIX + c),
    )
    named = ", ".join(
        f"{expr} AS {quoted(FEATURE_PREFIX + name)}"
        for expr, name in zip(features, sql.feature_names, strict=True)
    )
    encode = SQLTransformer(
        statement=f"SELECT *, {named} FROM (SELECT *, {positions} FROM __THIS__)"
    )
    assemble = VectorAssembler(
        inputCols=[FEATURE_PREFIX + n for n in sql.feature_names],
        outputCol=FEATURES_COL,
        handleInvalid="keep",
    )
    lightgbm = LightGBMClassificationModel.loadNativeModelFromString(sql.model_text)
    return PipelineModel([encode, assemble, lightgbm.setFeaturesCol(FEATURES_COL)])


def click_probability(column: str = "probability", name: str = "probability") -> Any:
    """The Column of the click probability ``p`` (a double) read from the pipeline's
    ``probability`` vector, named ``name``."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    return vector_to_array(F.col(column))[1].alias(name)
