"""Execute the notebooks in place, so that they are committed with their outputs.

Each notebook runs with papermill under its own defaults (the run a reader gets with Run All;
only the path of the record it writes is set), offline, on a data cache seeded with the real
MovieLens 100k from ``../shared/data`` (the real 100,000-row Criteo sample is not available to
the project, so the Criteo notebooks fall back to their 100,000 generated rows, as a reader's
would offline), in a temporary working folder (the models and files a notebook writes stay
there). Then the stored copy is cleaned: papermill's injected-parameters cell and timing
metadata go, the temporary folders and this machine's paths become ``<work>``, ``<cache>`` and
``<repo>`` (a safety net: the tests fail on any of them), and the outputs must stay under
:data:`MAX_OUTPUT_BYTES`. The key numbers of the run (``KEYS``, read from the
record the notebook writes) are kept in the notebook's metadata with the run's settings and the
data it used (``data`` of its record: a Criteo notebook's fallback): the notebook tests compare
them with a fresh run at those settings, so stale outputs fail.

``--check`` executes the notebooks the same way and compares their key numbers with the stored
ones, writing nothing (the notebook tests do the same for every notebook, at its stored
settings).

Run:  .venv/bin/python scripts/run_notebooks.py [--check] [notebook ...]
      (or scripts/run-notebooks.sh)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MAX_OUTPUT_BYTES = 1_000_000
TAG = "recommenders_kit"
# Spark's JVM log lines, stage progress bars, start-up notes and Ivy's resolution of
# spark.jars.packages (the kernel's stderr)
_NOISE = re.compile(
    r"^(\d\d/\d\d/\d\d \d\d:\d\d:\d\d (WARN|INFO|ERROR) |\s*\[Stage |\s*$"
    r"|Setting default log level|To adjust logging level|\s+at |\s*:: "
    r"|\s+(confs|found|downloading|---|\||default)"
    r"|Ivy Default Cache set to|The jars for the packages stored in|\S+#\S+ added as a dependency"
    r"|\s+\S+#\S+;\S+ (from|by) |\s+\d+ artifacts (copied|retrieved))"
)
# what the JVM writes to its stdout: Ivy's settings line (SPARK-48540), and the notes of
# LightGBM's native library in SynapseML's executors (its dataset step ignores verbosity=-1)
_STDOUT_NOISE = re.compile(r"^(:: loading settings :: |\[LightGBM\] \[(Info|Warning)\] )")


def run(relative: str, cache: Path, *, check: bool = False) -> None:
    """Execute ``relative`` at its defaults; store it with its outputs, or with ``check``
    compare its key numbers with the stored ones (SystemExit naming each that differs)."""
    import nbformat
    import papermill

    from tests.support.notebooks import KEYS, PLACEHOLDERS, RTOL, lookup, run_settings, stale

    with tempfile.TemporaryDirectory() as work:
        results = Path(work) / "results.json"
        executed = Path(work) / Path(relative).name
        papermill.execute_notebook(
            str(NOTEBOOKS / relative),
            str(executed),
            parameters={"RESULTS_PATH": str(results)},
            kernel_name="python3",
            cwd=work,
            progress_bar=False,
        )
        record = json.loads(results.read_text())
        nb = nbformat.read(executed, as_version=4)
        machine = {work: "work", str(cache): "cache", str(ROOT): "repo"}
        clean(nb, {path: PLACEHOLDERS[name] for path, name in machine.items()})
    stored = {
        "run": run_settings(relative, {}),
        "data": record.get("data"),
        "results": {key: lookup(record, key) for key in KEYS[relative]},
    }
    if check:
        old = nbformat.read(NOTEBOOKS / relative, as_version=4).metadata.get(TAG, {})
        differences = stale(old, stored["run"], record) if old else None
        if differences is None:
            raise SystemExit(f"{relative}: its stored run has other settings or data, or none")
        if differences:
            raise SystemExit(f"{relative}: stale outputs ({'; '.join(differences)}, rtol {RTOL})")
        print(f"{relative}: the stored key numbers hold", flush=True)
        return
    nb.metadata[TAG] = stored
    size = sum(len(json.dumps(c.get("outputs", []))) for c in nb.cells)
    if size > MAX_OUTPUT_BYTES:
        raise SystemExit(f"{relative}: outputs of {size:,} bytes (limit {MAX_OUTPUT_BYTES:,})")
    nbformat.write(nb, NOTEBOOKS / relative)
    print(f"{relative}: {size / 1e3:.0f} kB of outputs", flush=True)


def clean(nb: Any, replacements: dict[str, str]) -> None:
    """Drop papermill's injected cell and metadata and the Spark JVM's log lines and stage
    progress bars; replace machine paths in the outputs."""
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    nb.metadata.pop("papermill", None)
    home = str(Path.home())
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                noise = _NOISE if output.get("name") == "stderr" else _STDOUT_NOISE
                kept = [line for line in output["text"].splitlines(True) if not noise.match(line)]
                if not "".join(kept).strip():
                    continue
                output["text"] = "".join(kept)
            outputs.append(_replace(output, {**replacements, home: "~"}))
        if cell.cell_type == "code":
            cell.outputs = outputs


def _replace(node: Any, replacements: dict[str, str]) -> Any:
    if isinstance(node, str):
        for old, new in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
            node = node.replace(old, new)
        return node
    if isinstance(node, list):
        node[:] = [_replace(v, replacements) for v in node]
    elif isinstance(node, dict):
        for key in list(node):
            if key != "image/png":  # pictures hold no paths
                node[key] = _replace(node[key], replacements)
    return node


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=None)
    parser.add_argument(
        "--check", action="store_true", help="compare with the stored key numbers, write nothing"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.support.data import seed_movielens_100k
    from tests.support.notebooks import KEYS

    with tempfile.TemporaryDirectory() as tmp:
        cache = seed_movielens_100k(Path(tmp) / "cache")
        os.environ.update(
            RECOMMENDERS_KIT_CACHE=str(cache),
            RECOMMENDERS_KIT_OFFLINE="1",
            SPARK_MASTER="local[2]",
            MLFLOW_DISABLE_TELEMETRY="true",
        )
        for relative in args.notebooks or list(KEYS):
            run(relative, cache, check=args.check)


if __name__ == "__main__":
    main()
