#!/usr/bin/env bash
# Run the whole test suite (unit, integration with local Spark and servers, notebooks).
# Extra arguments go to pytest, e.g. scripts/test.sh -k movielens -x
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "no .venv: run scripts/setup.sh first" >&2; exit 1; }
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" = 5 ]; then
  echo "error: pytest collected no tests; that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
