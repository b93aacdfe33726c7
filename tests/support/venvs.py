"""New virtual environments for the tests that install the built wheel, made with the ``uv``
that ``scripts/setup.sh`` installs.

Installs read uv's cache first. Where the package index sends no caching headers (the proxy
on the machines this suite runs on does not), uv treats every cached download as stale: each
install fetched its wheels again and rebuilt pyspark's sdist, about 1 GB of cache per run that
nothing ever read, until the disk was full.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path


def uv() -> str:
    """The ``uv`` executable: on the PATH, or beside this interpreter."""
    return shutil.which("uv") or str(Path(sys.executable).with_name("uv"))


def new_venv(folder: Path) -> str:
    """A new, empty virtual environment at ``folder`` for this interpreter; its python."""
    subprocess.run([uv(), "venv", "-q", "--python", sys.executable, str(folder)], check=True)
    return str(folder / "bin" / "python")


def install(python: str, *args: str, cwd: Path | None = None) -> None:
    """``uv pip install args`` into ``python``'s environment: from uv's cache alone when it
    holds everything (``scripts/setup.sh`` filled it with the versions this suite runs), from
    the index otherwise."""
    command = [uv(), "pip", "install", "-q", "--python", python, *args]
    cached = subprocess.run([*command, "--offline"], cwd=cwd, capture_output=True, timeout=900)
    if cached.returncode != 0:
        subprocess.run(command, cwd=cwd, check=True, timeout=900)


def frozen(python: str) -> list[str]:
    """``uv pip freeze`` of ``python``'s environment, one requirement per line."""
    out = subprocess.run(
        [uv(), "pip", "freeze", "--python", python], capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines()


def preinstall(python: str, *distributions: str) -> None:
    """Put this interpreter's installed ``distributions`` (their files and metadata) into
    ``python``'s environment, as a runtime image ships them: hard links where the file system
    allows, copies otherwise. Files recorded outside site-packages (scripts) are left out."""
    target = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    for name in distributions:
        for file in importlib.metadata.distribution(name).files or ():
            if file.parts[0] == "..":
                continue
            destination = target / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            source = Path(str(file.locate()))
            try:
                os.link(source, destination)
            except OSError:
                shutil.copy2(source, destination)
