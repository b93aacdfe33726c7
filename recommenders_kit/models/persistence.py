"""Saving a model so that a failure never costs the model already saved there.

Every model's ``save`` writes through one of two context managers; the model writes its files
into the folder they yield, and only when that block ends without an error does the new
folder take the destination's place:

* :func:`replacing_folder` (a local folder): the new folder is written as a hidden sibling of
  the destination; the old folder is moved aside, the new one renamed into place, and the old
  one deleted only then. A failure at any step (an exception while writing, a rename that
  fails) deletes the new files and leaves the old folder where it was.
* :func:`replacing_uri` (a local path or any Hadoop URI: ``dbfs:``, ``abfss:``, ``hdfs:``,
  through the Spark session's Hadoop FileSystem): the same steps, and then a commit marker
  :data:`COMMITTED` written inside the folder. On an object store renaming a folder is a copy,
  not one atomic step, so :func:`require_committed` (called by ``load``) refuses a folder
  whose marker is missing instead of reading a half-copied model.

An existing destination is replaced only with ``overwrite=True``
(:func:`refuse_existing`'s ``FileExistsError`` otherwise).

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "model"
    >>> with replacing_folder(folder, overwrite=False) as staging:
    ...     _ = (staging / "weights.txt").write_text("1 2 3")
    >>> (folder / "weights.txt").read_text()
    '1 2 3'
    >>> with replacing_folder(folder, overwrite=True) as staging:
    ...     raise OSError("disk full")
    Traceback (most recent call last):
    ...
    OSError: disk full
    >>> (folder / "weights.txt").read_text()  # the old model is still there
    '1 2 3'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recommenders_kit.errors import AlreadyExistsError, ModelFormatError, StorageError
from recommenders_kit.spark import hadoop_path

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The file :func:`replacing_uri` writes last into a saved folder.
COMMITTED = "_COMMITTED"


def refuse_existing(exists: bool, where: str | os.PathLike[str], overwrite: bool) -> None:
    """``FileExistsError`` if the destination ``exists`` and ``overwrite`` is off."""
    if exists and not overwrite:
        raise AlreadyExistsError(f"{where} already exists: pass overwrite=True to replace it")


@contextlib.contextmanager
def replacing_folder(path: str | os.PathLike[str], overwrite: bool) -> Iterator[Path]:
    """Yield an empty staging folder; on a clean exit it replaces the folder ``path``."""
    folder = Path(path)
    refuse_existing(folder.exists(), folder, overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield staging
        aside = staging.with_name(staging.name + ".replaced")
        if folder.exists():  # moved aside, not deleted, until the new folder is in place
            folder.rename(aside)
        try:
            staging.rename(folder)
        except BaseException:
            if aside.exists():
                aside.rename(folder)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def replacing_uri(spark: SparkSession, uri: str, overwrite: bool) -> Iterator[str]:
    """Yield a staging URI beside ``uri`` (nothing there yet); on a clean exit it replaces
    the folder ``uri`` and the marker :data:`COMMITTED` is written inside it."""
    fs, target = hadoop_path(spark, uri)
    refuse_existing(bool(fs.exists(target)), uri, overwrite)
    name = target.getName()
    staging_uri = target.getParent().toString() + f"/.{name}.{uuid.uuid4().hex[:12]}"
    _, staging = hadoop_path(spark, staging_uri)
    _, aside = hadoop_path(spark, staging_uri + ".replaced")
    try:
        yield staging_uri
        replaced = bool(fs.exists(target))
        if replaced and not fs.rename(target, aside):
            raise StorageError(f"could not move {uri} aside to replace it")
        try:
            if not fs.rename(staging, target):
                raise StorageError(f"could not move the new model into {uri}")
        except BaseException:
            if replaced:  # whatever part of the new one arrived goes; the old one comes back
                fs.delete(target, True)
                fs.rename(aside, target)
            raise
        _, marker = hadoop_path(spark, f"{target.toString()}/{COMMITTED}")
        fs.create(marker, True).close()
        fs.delete(aside, True)
    finally:
        fs.delete(staging, True)


def require_committed(spark: SparkSession, uri: str) -> None:
    """:class:`~recommenders_kit.errors.ModelFormatError` unless the folder ``uri`` holds
    the marker :data:`COMMITTED` (its save finished)."""
    fs, marker = hadoop_path(spark, f"{uri.rstrip('/')}/{COMMITTED}")
    if not fs.exists(marker):
        raise ModelFormatError(
            f"{uri} has no {COMMITTED} marker: its save did not finish (or it is no saved "
            "model); save the model again"
        )


def read_arrays(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The arrays of an ``.npz`` file a model's save wrote (numpy's format, never a pickle);
    a missing or damaged file is a :class:`~recommenders_kit.errors.ModelFormatError` naming
    it."""
    import zipfile

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ModelFormatError(f"{path}: not a readable model file ({e}); save it again") from None
