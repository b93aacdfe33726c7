"""Timing, memory and table helpers shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def peak_gib(pid: int | str = "self") -> float:
    """A process's resident high-water mark (Linux ``VmHWM``, GiB) since it started or since
    the last :func:`reset_peak`."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


def reset_peak(pid: int | str = "self") -> None:
    """Restart a process's high-water mark at its current resident size."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class Stages:
    """Timed stages of a run, one table row each: group, stage, input rows, seconds, rows per
    second, this process's peak memory (GiB) and, with ``jvm_column``, the peak of the Spark
    driver JVM whose pid is in :attr:`jvm` ("-" while it is None); each peak is reset before
    the stage."""

    def __init__(self, jvm_column: bool = False) -> None:
        self.rows: list[list[Any]] = []
        self.jvm_column = jvm_column
        self.jvm: int | None = None

    def run(self, group: str, name: str, n: int, fn: Callable[[], Any]) -> Any:
        """``fn()``, timed and measured as the row ``(group, name)`` over ``n`` input rows."""
        reset_peak()
        if self.jvm:
            reset_peak(self.jvm)
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        row = [group, name, f"{n:,}", seconds, n / seconds, peak_gib()]
        if self.jvm_column:
            row.append(f"{peak_gib(self.jvm):.2f}" if self.jvm else "-")
        self.rows.append(row)
        print(f"  {group} / {name}: {seconds:.1f} s, peak {peak_gib():.2f} GiB", flush=True)
        return result


def jvm_pid(spark: Any) -> int:
    """The process id of a Spark session's driver JVM (a local session's executors too)."""
    return int(spark._jvm.java.lang.ProcessHandle.current().pid())


def best_time(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a Markdown table; floats get 4 significant digits."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |")
