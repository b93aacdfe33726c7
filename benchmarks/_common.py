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
