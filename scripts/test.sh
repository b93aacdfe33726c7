#!/usr/bin/env bash
# Run the whole test suite (unit, integration with local Spark and servers, notebooks).
# Extra arguments go to pytest, e.g. scripts/test.sh -k movielens -x
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "no .venv: run scripts/setup.sh first" >&2; exit 1; }
# Two processes (pytest-xdist), each test taken by whichever is free: most of the suite's time
# is notebook kernels, JVMs and servers starting, which overlap with the other's work. On this
# 2-core machine more processes only compete for the cores. RK_TEST_WORKERS=0: one process.
.venv/bin/python -m pytest -n "${RK_TEST_WORKERS:-2}" --dist worksteal "$@"
rc=$?
if [ "$rc" = 5 ]; then
  echo "error: pytest collected no tests; that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
