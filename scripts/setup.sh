#!/usr/bin/env bash
# Install everything recommenders_kit and its tests need, into this checkout:
#   Java 17 (if no Java 17+ is found and apt-get is available), a virtual environment .venv
#   with the package and all its extras (editable), the Node-based local Azure servers
#   (tools/azure-local), and the SynapseML jars in the Ivy cache (so Spark runs offline).
# Safe to run again: each step reuses what is already there.
# Environment: PYTHON (interpreter to build .venv from, default python3),
#              RK_SKIP_NODE=1 / RK_SKIP_JARS=1 to leave those parts out.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }

step "Java 17+"
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless
  else
    echo "Java 17 is required for Spark: install it (e.g. 'conda env create -f conda.yaml' or your OS package) and rerun" >&2
    exit 1
  fi
fi
java -version 2>&1 | head -n1

step "Python environment (.venv) with recommenders-kit[all,dev]"
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 10), "Python >= 3.10 is required"'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check uv
.venv/bin/uv pip install -q --python .venv/bin/python -e ".[all,dev]"
.venv/bin/python -c 'import recommenders_kit; print("recommenders_kit", recommenders_kit.__version__)'

if [ "${RK_SKIP_NODE:-0}" != 1 ]; then
  step "Local Azure servers (Azurite, Cosmos DB server) in tools/azure-local"
  command -v npm >/dev/null 2>&1 || { echo "Node.js 18+ with npm is required for the local Azure servers" >&2; exit 1; }
  # npm ci is idempotent; retried because npm 11 sometimes fails a fresh extraction with a
  # transient ENOTEMPTY.
  for attempt in 1 2 3; do
    if (cd tools/azure-local && npm ci --no-audit --no-fund --loglevel=error); then break; fi
    [ "$attempt" = 3 ] && { echo "npm ci failed 3 times" >&2; exit 1; }
    echo "npm ci failed (attempt $attempt); retrying" >&2; sleep 2
  done
fi

if [ "${RK_SKIP_JARS:-0}" != 1 ]; then
  step "SynapseML jars (Maven Central -> Ivy cache)"
  .venv/bin/python scripts/prefetch_spark_packages.py 2> .venv/prefetch.log || {
    tail -n 30 .venv/prefetch.log >&2; exit 1; }
fi

step "done in $(( $(date +%s) - started ))s; run the tests with: scripts/test.sh"
