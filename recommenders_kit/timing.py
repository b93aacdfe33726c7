"""Wall-clock timings of named steps, for the tables the notebooks and the quickstart show."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Timings(dict[str, float]):
    """Seconds per named step, in the order the steps first ran; a step timed again adds up.

    Example:
        >>> timings = Timings()
        >>> with timings("fit"):
        ...     total = sum(range(1000))
        >>> list(timings), timings["fit"] >= 0
        (['fit'], True)
    """

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self[name] = self.get(name, 0.0) + time.perf_counter() - start
