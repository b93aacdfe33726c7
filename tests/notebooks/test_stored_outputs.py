"""Every notebook is committed with its outputs, as ``scripts/run-notebooks.sh`` writes them:
every code cell executed, plots as PNG, no path of the machine that ran them (nor the
placeholders the script puts for one), no warning or log line on stderr, under 1 MB; it ends
as a chapter does (a rendered results table, the silent record cell the tests read, a
Takeaways paragraph with links); and with the key numbers of its stored run (which the
notebook tests compare with a fresh run, in ``tests/notebooks/conftest.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from tests.notebooks.conftest import NOTEBOOKS, stored_run
from tests.support.notebooks import KEYS, PLACEHOLDERS, run_settings, stale

ALL = sorted(str(p.relative_to(NOTEBOOKS)) for p in NOTEBOOKS.rglob("*.ipynb"))
# what a reader should never see in a stored stderr stream: a warning (Python's, a logger's,
# the Azure SDK's), a log record, a JVM log line or stack frame, Ivy's dependency resolution
_NOT_FOR_READERS = re.compile(
    r"Warning\b|\b(WARN|WARNING|ERROR|INFO|DEBUG)\b|Traceback|Exception|experimental class"
    r"|^\s+at [\w.$]+\(|\bIvy\b|\S+#\S+;\S+ from"
)


def _frozen_bars(nb) -> list[str]:
    """Each cell's last progress-bar frame on stderr, where it stopped short of its total
    ("4% 44/1000" reads as a crash)."""
    frozen = []
    for cell in nb.cells:
        text = "".join(o["text"] for o in cell.get("outputs", []) if o.get("name") == "stderr")
        frames = list(re.finditer(r"[^\r\n]*\|\s*(\d+)/(\d+) \[[^\r\n]*", text))
        if frames and frames[-1][1] != frames[-1][2]:
            frozen.append(frames[-1][0])
    return frozen


def _stderr_lines(nb) -> list[str]:
    return [
        line
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr"
        for line in output["text"].replace("\r", "\n").splitlines()
    ]


def test_every_notebook_has_a_stored_run():
    assert sorted(KEYS) == ALL


@pytest.mark.parametrize("relative", ALL)
def test_committed_with_outputs(relative):
    nb = nbformat.read(NOTEBOOKS / relative, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{relative} has cells that were not run"
    text = json.dumps([c.get("outputs", []) for c in code])
    assert len(text) < 1_000_000
    noise = [line for line in _stderr_lines(nb) if _NOT_FOR_READERS.search(line)]
    assert not noise, f"{relative} shows warnings or log lines on stderr: {noise[:3]}"
    for jvm in (":: loading settings ::", "[LightGBM] ["):
        assert jvm not in text, f"{relative} shows the JVM's stdout: {jvm}"
    assert not _frozen_bars(nb), f"{relative} shows a bar stopped part-way: {_frozen_bars(nb)}"
    for local in ("/tmp/", str(Path.home()) + "/", str(NOTEBOOKS.parent), *PLACEHOLDERS.values()):
        assert local not in text, f"{relative} shows a path of the machine that ran it: {local}"
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    stored = stored_run(relative)
    # stored at the notebook's own defaults: what a reader gets with Run All, not a test's
    # smaller settings
    assert stored["run"] == run_settings(relative, {}), f"{relative} is stored under overrides"
    assert sorted(stored["results"]) == sorted(KEYS[relative])


@pytest.mark.parametrize("relative", ALL)
def test_ends_as_a_chapter(relative):
    """Results table, then the record cell (tagged, silent), then the Takeaways with links."""
    nb = nbformat.read(NOTEBOOKS / relative, as_version=4)
    hooks = [i for i, c in enumerate(nb.cells) if "record" in c.metadata.get("tags", [])]
    assert len(hooks) == 1, f"{relative}: {len(hooks)} cells tagged 'record'"
    (hook,) = hooks
    record = nb.cells[hook]
    assert record.source.startswith("# The tests' hook"), f"{relative}: the record cell unmarked"
    assert record.outputs == [], f"{relative}: the record cell shows output"
    results = nb.cells[hook - 1]
    assert any("text/html" in o.get("data", {}) for o in results.get("outputs", [])), (
        f"{relative}: no rendered results table before the record cell"
    )
    takeaways = nb.cells[hook + 1 :]
    assert len(takeaways) == 1, f"{relative}: cells after the Takeaways"
    assert takeaways[0].cell_type == "markdown"
    assert takeaways[0].source.startswith("## Takeaways"), f"{relative} ends without Takeaways"
    assert re.search(r"\]\(https?://", takeaways[0].source), f"{relative}: Takeaways link nothing"


def test_plots_are_stored_as_pictures():
    pictures = {
        relative: sum(
            "image/png" in output.get("data", {})
            for cell in nbformat.read(NOTEBOOKS / relative, as_version=4).cells
            for output in cell.get("outputs", [])
        )
        for relative in ALL
    }
    assert pictures["01_prepare_data/data_split.ipynb"] >= 2
    assert pictures["03_evaluate/evaluation.ipynb"] >= 1
    assert pictures["00_quick_start/lightgbm_criteo.ipynb"] >= 1


def _record(results: dict) -> dict:
    """A notebook's record holding ``results`` (dotted keys) where the notebook writes them."""
    record: dict = {}
    for dotted, value in results.items():
        *parents, last = dotted.split(".")
        node = record
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return record


def test_the_stale_check_compares_only_like_runs_and_names_what_moved():
    relative = "00_quick_start/lightgbm_criteo.ipynb"
    stored = stored_run(relative)
    same = {**_record(stored["results"]), "data": stored["data"]}
    assert stale(stored, run_settings(relative, {}), same) == []
    moved = {**same, "metrics": {**same["metrics"], "auc": stored["results"]["metrics.auc"] * 1.01}}
    (difference,) = stale(stored, run_settings(relative, {}), moved)
    assert difference.startswith("metrics.auc: stored ")
    # within the tolerance: the same
    nudged = {
        **same,
        "metrics": {**same["metrics"], "auc": stored["results"]["metrics.auc"] * 1.0005},
    }
    assert stale(stored, run_settings(relative, {}), nudged) == []
    # other data (the real rows) or other settings: not comparable
    assert stale(stored, run_settings(relative, {}), {**same, "data": "other"}) is None
    other = run_settings(relative, {"N_GENERATED": 5})
    assert stale(stored, other, same) is None
