"""Progress bars for the library's long steps (internal): downloads, uploads, encoding,
boosting, building LightGBM datasets, writing generated files.

In a Jupyter kernel with ``ipywidgets`` installed a bar is a widget; anywhere else (a
terminal, a job's log, a kernel without ``ipywidgets``) it is a text bar, and tqdm's "IProgress
not found" warning, which the notebooks' outputs would keep, is not raised.
"""

from __future__ import annotations

import importlib.util
import sys
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
