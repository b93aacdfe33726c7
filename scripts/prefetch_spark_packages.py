"""Resolve the Maven packages Spark needs (SynapseML) into the local Ivy cache, once.

Run by ``scripts/setup.sh`` so that later Spark sessions find the jars without the network.
"""

from __future__ import annotations

import sys
import time

from recommenders_kit.spark import SYNAPSEML_PACKAGE, start_or_get_spark


def main() -> int:
    started = time.time()
    spark = start_or_get_spark(
        "prefetch", master="local[1]", memory="1g", packages=[SYNAPSEML_PACKAGE]
    )
    jars = spark.sparkContext.getConf().get("spark.jars", "")
    spark.stop()
    count = len([j for j in jars.split(",") if j])
    print(f"resolved {SYNAPSEML_PACKAGE}: {count} jars in {time.time() - started:.0f}s")
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
