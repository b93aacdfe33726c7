"""Criteo at its real size on one machine: 45.8M rows trained out of core, then scored.

Writes ``--rows`` training rows plus ``--test-rows`` held-out rows of the planted click model
(``criteo_synthetic.write_parquet``, one file of ``--rows-per-file`` rows in memory at a
time), trains ``LightGBMClickModel`` on the parquet files (a streaming encoder fit, the
LightGBM ``Dataset`` built a row group at a time, early stopping on the last
``--valid-fraction`` of the training rows), scores the held-out rows against the AUC ceiling
(the AUC of the true probabilities), then scores every training row from parquet as a nightly
batch job would. Beside it, in the same run, today's in-memory path (one DataFrame) on the
first ``--in-memory-rows`` rows with the same parameters.

Per stage: seconds, rows per second, and the process's peak resident memory during that
stage (Linux ``VmHWM``, reset before each stage through ``/proc/self/clear_refs``).

Run:  .venv/bin/python -m benchmarks.scale_criteo [--rows 45840617] [--in-memory-rows 4000000]
      [--folder DIR] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks._common import Stages, print_table
from recommenders_kit.datasets.criteo_synthetic import PROBABILITY_COL, write_parquet
from recommenders_kit.datasets.parquet import ParquetRows
from recommenders_kit.evaluation.pandas.classification import roc_auc
from recommenders_kit.models.lightgbm.pandas import FeatureEncoder, LightGBMClickModel

CRITEO_TRAIN_ROWS = 45_840_617
#: Bagging: each tree sees a tenth of the rows (all of them over the trees), which makes a
#: boosting round on 45.8M rows cost less; with a learning rate of 0.2 early stopping came
#: after 67 rounds (best 37). (0.1 and a fifth of the rows: 7-8 s a round on 45.8M rows,
#: still improving after 96 rounds and 31 minutes.)
PARAMS = {
    "learning_rate": 0.2,
    "num_leaves": 63,
    "min_data_in_leaf": 200,
    "bagging_fraction": 0.1,
    "bagging_freq": 1,
}
MIN_COUNT = 20
#: The tail of the training rows held out for early stopping.
VALID_FRACTION = 0.02


def model(args: Any, progress: bool) -> LightGBMClickModel:
    """The click model both paths train: :data:`PARAMS` with the command line's overrides."""
    return LightGBMClickModel(
        FeatureEncoder(methods=("ordinal", "count"), min_count=MIN_COUNT),
        params={
            **PARAMS,
            "learning_rate": args.learning_rate,
            "bagging_fraction": args.bagging_fraction,
        },
        num_boost_round=args.rounds,
        valid_fraction=VALID_FRACTION,
        progress=progress,
    )


def auc_of(rows: ParquetRows, scores: Any) -> float:
    return roc_auc(rows.column("label").astype(bool), scores)


def run_in_memory(rows: ParquetRows, n: int, test: ParquetRows, args: Any, stages: Stages) -> None:
    path = f"in memory, {n:,} rows"
    frame = stages.run(path, "read", n, lambda: pd.concat(rows.slice(0, n).blocks()))
    fitted = stages.run(path, "encode + train", n, lambda: model(args, False).fit(frame))
    test_frame = pd.concat(test.blocks())
    p = stages.run(path, "score test", len(test), lambda: fitted.predict_proba(test_frame))
    stages.rows[-1].append(f"AUC {auc_of(test, p):.4f}, {fitted.meta.best_iteration} trees")


def run_out_of_core(rows: ParquetRows, test: ParquetRows, args: Any, stages: Stages) -> None:
    path = f"out of core, {len(rows):,} rows"
    ends: list[float] = []  # when each boosting round ended

    def fit() -> LightGBMClickModel:
        return model(args, True).fit(rows, callbacks=[lambda env: ends.append(time.perf_counter())])

    start = time.perf_counter()
    fitted = stages.run(path, "encode + train", len(rows), fit)
    per_round = (ends[-1] - ends[0]) / max(len(ends) - 1, 1)
    before = ends[0] - start - per_round
    stages.rows[-1].append(
        f"encoder fit + datasets {before:.0f} s, {len(ends)} rounds x {per_round:.2f} s"
    )
    p = stages.run(path, "score test", len(test), lambda: fitted.predict_proba(test))
    stages.rows[-1].append(f"AUC {auc_of(test, p):.4f}, best {fitted.meta.best_iteration} trees")
    stages.run(path, "score all (batch job)", len(rows), lambda: fitted.predict_proba(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=CRITEO_TRAIN_ROWS)
    parser.add_argument("--test-rows", type=int, default=1_000_000)
    parser.add_argument("--rows-per-file", type=int, default=1_000_000)
    parser.add_argument("--in-memory-rows", type=int, default=4_000_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=PARAMS["learning_rate"])
    parser.add_argument("--bagging-fraction", type=float, default=PARAMS["bagging_fraction"])
    parser.add_argument("--folder", type=Path, help="where the parquet files go (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the files (reused if there)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="criteo-scale-"))
    total = args.rows + args.test_rows
    stages = Stages()
    try:
        existing = ParquetRows(folder) if list(folder.glob("*.parquet")) else None
        if existing is None or len(existing) < total:  # kept files may serve a smaller run
            shutil.rmtree(folder, ignore_errors=True)
            stages.run(
                "data",
                "generate + write",
                total,
                lambda: write_parquet(folder, total, args.rows_per_file, seed=0),
            )
        everything = ParquetRows(folder)
        rows, test = everything.slice(0, args.rows), everything.slice(args.rows, total)
        ceiling = roc_auc(test.column("label").astype(bool), test.column(PROBABILITY_COL))
        if args.in_memory_rows:
            run_in_memory(rows, min(args.in_memory_rows, args.rows), test, args, stages)
        run_out_of_core(rows, test, args, stages)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    for row in stages.rows:
        row += [""] * (7 - len(row))
    print(f"\ntest rows: {args.test_rows:,}; AUC ceiling (true probabilities): {ceiling:.4f}\n")
    print_table(["path", "stage", "rows", "s", "rows/s", "peak GiB", "quality"], stages.rows)


if __name__ == "__main__":
    main()
