#!/usr/bin/env bash
# Execute every notebook in place so that it is committed with its outputs (tables, plots),
# offline on the real extracts in ../shared/data. Arguments: notebooks to run (default: all),
# relative to notebooks/, e.g. scripts/run-notebooks.sh 03_evaluate/evaluation.ipynb
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "no .venv: run scripts/setup.sh first" >&2; exit 1; }
exec .venv/bin/python scripts/run_notebooks.py "$@"
