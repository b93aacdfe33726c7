"""What the library shows while it works (internal): progress bars for its long steps
(downloads, uploads, encoding, boosting, building LightGBM datasets, writing generated files),
and third-party chatter kept out of the user's output (:func:`quiet_third_party_bars`,
:func:`quiet_logger`).

In a Jupyter kernel with ``ipywidgets`` installed a bar is a widget; anywhere else (a
terminal, a job's log, a kernel without ``ipywidgets``) it is a text bar, and tqdm's "IProgress
not found" warning, which the notebooks' outputs would keep, is not raised.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def progress_bar(
    total: int | None, desc: str, unit: str, enabled: bool = True, **options: Any
) -> Any:
    """A tqdm bar of ``total`` ``unit`` (None: unknown), cleared when it closes, showing
    nothing when not ``enabled``; use it as a context manager or ``close()`` it.
    ``options``: more tqdm arguments (``initial``, ``unit_scale``, ...).

    >>> import io
    >>> out = io.StringIO()
    >>> with progress_bar(3, "steps", "step", file=out) as bar:
    ...     for _ in range(3):
    ...         _ = bar.update(1)
    >>> bar.n, bar.total
    (3, 3)
    """
    if widgets_available():
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False, **options)


def widgets_available() -> bool:
    """Whether this process is a Jupyter kernel that can show ``ipywidgets`` bars."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or "IPKernelApp" not in shell.config:
        return False
    return importlib.util.find_spec("ipywidgets") is not None


def quiet_third_party_bars() -> None:
    """Import ``tqdm.auto`` without its "IProgress not found" warning, before a package that
    imports it (``implicit``, ``optuna``) does: without ``ipywidgets`` it falls back to text
    bars, as the library's own do, and the warning would only clutter a notebook's output."""
    if "tqdm.auto" in sys.modules:
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import tqdm.auto  # noqa: F401


@contextmanager
def quiet_logger(name: str, level: int = logging.WARNING) -> Iterator[None]:
    """Within the block, logger ``name`` passes only records at ``level`` or above; its level
    is restored after.

    >>> log = logging.getLogger("example.chatty")
    >>> with quiet_logger("example.chatty"):
    ...     log.getEffectiveLevel() == logging.WARNING
    True
    """
    logger = logging.getLogger(name)
    before = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(before)
