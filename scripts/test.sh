#!/usr/bin/env bash
# Run the whole test suite (unit, integration with local Spark and servers, notebooks); the 30
# slowest tests are listed at the end.
# Extra arguments go to pytest, e.g. scripts/test.sh -k movielens -x
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "no .venv: run scripts/setup.sh first" >&2; exit 1; }
# Two processes (pytest-xdist) by default, one per core: both cores are busy 96% of a run, so
# more processes only contend. Each takes whole modules (a module's fixtures, e.g. a notebook
# run, are not repeated), longest first (see tests/conftest.py). RK_TEST_WORKERS=0: one
# process. OpenMP threads (LightGBM, implicit) sleep instead of spinning while they wait: with
# two processes on 2 cores spinning made two LightGBM fits at once 2.3x slower each (10.2 s
# instead of 4.4 s).
workers=${RK_TEST_WORKERS:-2}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# The suite's JVMs are small and live a minute or two. Two options make them cheaper, with the
# same numbers:
# - C1 only: too short a life for the C2 compiler to earn back the CPU it burns. A Spark ALS fit
#   and evaluation on MovieLens 100k in a fresh session takes 35 CPU-s instead of 53.
# - the serial garbage collector: G1's concurrent threads cost more CPU than they save on 2
#   cores. The sweep notebook's 20 trials in one JVM: 401 CPU-s instead of 492 (240 s instead
#   of 286).
# SPARK_SUBMIT_OPTS reaches every Spark driver (pyspark starts them with spark-submit: tests,
# notebook kernels, CLI runs); tests/support/spark_cluster.py passes it on to the loopback
# cluster's JVMs. The sweep notebook's kernel keeps C2 (one JVM running the same code for
# minutes: see tests/notebooks/test_als_sweep.py). Benchmarks and users keep the defaults.
SPARK_SUBMIT_OPTS=${SPARK_SUBMIT_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}
# The JVMs' temporary files (Spark's block manager and shuffle folders, the native libraries
# that lz4 and SynapseML unpack and never delete: SynapseML 7 MB each time a JVM loads
# LightGBM) go to one folder, removed when the run ends: earlier runs had left 3 GB in /tmp.
jvm_tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-tests-jvm.XXXXXX")
trap 'rm -rf "$jvm_tmp"' EXIT
export SPARK_SUBMIT_OPTS="$SPARK_SUBMIT_OPTS -Djava.io.tmpdir=$jvm_tmp"
parallel=()
if [ "$workers" -gt 0 ]; then parallel=(-n "$workers" --dist loadscope --no-loadscope-reorder); fi
.venv/bin/python -m pytest "${parallel[@]}" --durations=30 "$@"
rc=$?
if [ "$rc" = 5 ]; then
  echo "error: pytest collected no tests; that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
