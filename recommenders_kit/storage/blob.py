"""Data and model artefacts in Azure Blob Storage: files, folders and pandas DataFrames.

:class:`BlobStore` wraps one container. Every upload records the whole content's MD5 in the
blob's ``Content-MD5`` property and every download checks it, so a corrupted transfer never
passes silently. Nothing half-written looks complete:

* a file upload is one Put Blob or staged blocks committed at the end, so an interrupted
  upload leaves the previous blob (or none), never a partial one;
* a download goes to ``<name>.part`` and is renamed only after the MD5 matched;
* a folder (a saved Spark or LightGBM model) is uploaded file by file and then a manifest
  ``_MANIFEST.json`` (relative paths, sizes, MD5s) is written last: :meth:`download_folder`
  refuses a folder without it. Re-running an interrupted folder upload resumes: files already
  stored with the same MD5 are skipped.

Existing blobs and files are replaced only with ``overwrite=True``.

Authentication, with no secret in code or logs: a connection string (argument or
``AZURE_STORAGE_CONNECTION_STRING``), a SAS token with the account URL, or, with the
account URL alone, ``DefaultAzureCredential`` (managed identity, ``az login``, ...).

Example::

    store = BlobStore("models", account_url="https://myaccount.blob.core.windows.net")
    store.upload_folder("criteo_model", "criteo/v3")
    store.download_folder("criteo/v3", "/tmp/criteo_model")
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from pathlib import Path, PurePosixPath
from typing import IO, Any

import pandas as pd

from recommenders_kit._progress import progress_bar
from recommenders_kit._validate import require_pandas_frame
from recommenders_kit.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    InputError,
    MissingResourceError,
    StorageError,
)
from recommenders_kit.settings import AZURE_STORAGE_ENV, env_value

MANIFEST = "_MANIFEST.json"
_CHUNK = 4 * 2**20


class BlobIntegrityError(StorageError):
    """A downloaded blob's MD5 differs from the one recorded at upload."""


def _md5_file(path: Path) -> bytes:
    h = hashlib.md5()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.digest()


class _Progress:
    """A tqdm bar fed by the SDK's ``progress_hook(current, total)``."""

    def __init__(self, desc: str, enabled: bool):
        self.desc, self.enabled = desc, enabled
        self.bar: Any = None

    def __call__(self, current: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = progress_bar(total, self.desc, "B", unit_scale=True)
        self.bar.update(current - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class BlobStore:
    """One Blob Storage container.

    Args:
        container: the container's name.
        connection_string: an account connection string (default:
            ``$AZURE_STORAGE_CONNECTION_STRING`` when ``account_url`` is not given).
        account_url: ``https://<account>.blob.core.windows.net``; with ``sas_token`` or
            ``credential``, or alone for ``DefaultAzureCredential``.
        sas_token: a SAS token (with or without the leading ``?``).
        credential: any credential the SDK accepts (overrides the above).
        create_container: create the container if it does not exist.
        progress: tqdm bars for transfers of files larger than 8 MiB.
        **client_kwargs: passed to ``BlobServiceClient`` (e.g. ``max_single_put_size``,
            ``max_block_size``, ``max_chunk_get_size``).
    """

    def __init__(
        self,
        container: str,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        sas_token: str | None = None,
        credential: Any = None,
        create_container: bool = False,
        progress: bool = True,
        **client_kwargs: Any,
    ):
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        connection_string = connection_string or (
            None if account_url else env_value(AZURE_STORAGE_ENV)
        )
        if connection_string:
            service = BlobServiceClient.from_connection_string(
                connection_string, credential=credential, **client_kwargs
            )
        elif account_url:
            if credential is None and sas_token:
                credential = sas_token.lstrip("?")
            if credential is None:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            service = BlobServiceClient(account_url, credential=credential, **client_kwargs)
        else:
            raise InputError(
                "give connection_string, account_url (with sas_token or credential, or alone for "
                "DefaultAzureCredential), or set AZURE_STORAGE_CONNECTION_STRING"
            )
        self.account = service.account_name
        self.container_name = container
        self.progress = progress
        self._container = service.get_container_client(container)
        if create_container:
            with contextlib.suppress(ResourceExistsError):
                self._call(self._container.create_container)

    def __repr__(self) -> str:
        return f"BlobStore(account={self.account!r}, container={self.container_name!r})"

    # ------------------------------------------------------------ errors

    def _call(self, fn: Any, *args: Any, name: str | None = None, **kwargs: Any) -> Any:
        """Run an SDK call, turning its errors into ones that name the blob and the fix."""
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceNotFoundError,
        )

        where = f"{self.account}/{self.container_name}" + (f"/{name}" if name else "")
        try:
            return fn(*args, **kwargs)
        except ClientAuthenticationError as e:
            raise AccessDeniedError(
                f"Blob Storage refused the credentials for {where} ({e.reason or _code(e)}): "
                "check the account key, SAS token (expiry, permissions) or identity"
            ) from None
        except ResourceNotFoundError as e:
            if _code(e) == "ContainerNotFound":
                raise MissingResourceError(
                    f"container {self.container_name!r} does not exist in account "
                    f"{self.account!r}: create it or pass create_container=True"
                ) from None
            raise MissingResourceError(f"no blob {where}") from None
        except ResourceExistsError as e:
            if _code(e) == "ContainerAlreadyExists":
                raise
            raise AlreadyExistsError(
                f"blob {where} exists: pass overwrite=True to replace it"
            ) from None
        except HttpResponseError as e:
            if e.status_code == 403:
                raise AccessDeniedError(
                    f"Blob Storage refused access to {where} ({_code(e)}): check the "
                    "credentials and their permissions"
                ) from None
            raise

    # ------------------------------------------------------------ listing

    def exists(self, name: str) -> bool:
        return self._call(self._container.get_blob_client(name).exists, name=name)

    def list(self, prefix: str = "") -> list[str]:
        """Names of the blobs under ``prefix``, sorted."""
        return sorted(self._call(lambda: [b.name for b in self._container.list_blobs(prefix)]))

    def md5(self, name: str) -> bytes | None:
        """The MD5 recorded for ``name`` (None if the blob has none)."""
        props = self._call(self._container.get_blob_client(name).get_blob_properties, name=name)
        md5 = props.content_settings.content_md5
        return bytes(md5) if md5 else None

    # ------------------------------------------------------------ files

    def upload_stream(
        self,
        stream: IO[bytes],
        name: str,
        *,
        md5: bytes,
        length: int | None = None,
        overwrite: bool = False,
    ) -> str:
        """Upload a binary stream whose MD5 is known; the lower level of :meth:`upload_file`."""
        from azure.storage.blob import ContentSettings

        bar = _Progress(f"upload {name}", self.progress and (length or 0) > 8 * 2**20)
        try:
            self._call(
                self._container.get_blob_client(name).upload_blob,
                stream,
                length=length,
                overwrite=overwrite,
                content_settings=ContentSettings(content_md5=bytearray(md5)),
                progress_hook=bar,
                name=name,
            )
        finally:
            bar.close()
        return name

    def upload_file(self, path: str | Path, name: str, *, overwrite: bool = False) -> str:
        """Upload one local file as blob ``name``; returns ``name``."""
        path = Path(path)
        if not path.is_file():
            raise MissingResourceError(f"{path} is not a file")
        with path.open("rb") as f:
            return self.upload_stream(
                f, name, md5=_md5_file(path), length=path.stat().st_size, overwrite=overwrite
            )

    def download_file(self, name: str, path: str | Path, *, overwrite: bool = False) -> Path:
        """Download blob ``name`` to ``path`` (checked against its MD5, renamed when complete)."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise AlreadyExistsError(f"{path} exists: pass overwrite=True to replace it")
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        blob = self._container.get_blob_client(name)
        try:
            downloader = self._call(blob.download_blob, name=name)
            expected = downloader.properties.content_settings.content_md5
            bar = _Progress(f"download {name}", self.progress and downloader.size > 8 * 2**20)
            h = hashlib.md5()
            try:
                with part.open("wb") as f:
                    for chunk in downloader.chunks():
                        f.write(chunk)
                        h.update(chunk)
                        bar(f.tell(), downloader.size)
                    f.flush()
                    os.fsync(f.fileno())
            finally:
                bar.close()
            if expected and h.digest() != bytes(expected):
                raise BlobIntegrityError(
                    f"blob {self.account}/{self.container_name}/{name}: MD5 of the downloaded "
                    f"bytes {h.hexdigest()} differs from the recorded "
                    f"{bytes(expected).hex()}; nothing was written to {path}"
                )
            part.replace(path)
        finally:
            part.unlink(missing_ok=True)
        return path

    def delete(self, name: str) -> None:
        self._call(self._container.delete_blob, name, name=name)

    # ------------------------------------------------------------ folders

    def upload_folder(self, folder: str | Path, prefix: str, *, overwrite: bool = False) -> dict:
        """Upload every file under ``folder`` below ``prefix``, then the manifest.

        Files already stored with the same MD5 are skipped (a rerun resumes an interrupted
        upload); a stored file with other content is an error unless ``overwrite``.
        Returns the manifest.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise MissingResourceError(f"{folder} is not a folder")
        prefix = prefix.strip("/")
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        manifest: dict[str, dict[str, Any]] = {"files": {}}
        stored = set(self.list(prefix + "/"))
        if f"{prefix}/{MANIFEST}" in stored:
            if not overwrite:
                raise AlreadyExistsError(
                    f"folder {self.container_name}/{prefix} exists: pass overwrite=True to "
                    "replace it"
                )
            self.delete(f"{prefix}/{MANIFEST}")  # the folder is incomplete until rewritten
        for path in files:
            rel = path.relative_to(folder).as_posix()
            name, md5 = f"{prefix}/{rel}", _md5_file(path)
            manifest["files"][rel] = {"size": path.stat().st_size, "md5": md5.hex()}
            if name in stored and self.md5(name) == md5:
                continue
            self.upload_file(path, name, overwrite=True)
        data = json.dumps(manifest, indent=1, sort_keys=True).encode()
        self.upload_stream(
            io.BytesIO(data),
            f"{prefix}/{MANIFEST}",
            md5=hashlib.md5(data).digest(),
            length=len(data),
            overwrite=True,
        )
        return manifest

    def download_folder(self, prefix: str, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Download a folder written by :meth:`upload_folder` into ``folder``.

        The folder is assembled next to the destination and renamed into place when every
        file is there and checked, so ``folder`` is either complete or untouched.
        """
        prefix = prefix.strip("/")
        folder = Path(folder)
        if folder.exists() and not overwrite:
            raise AlreadyExistsError(f"{folder} exists: pass overwrite=True to replace it")
        try:
            manifest = json.loads(self.read_bytes(f"{prefix}/{MANIFEST}"))
        except FileNotFoundError:
            raise MissingResourceError(
                f"{self.container_name}/{prefix} has no {MANIFEST}: not a folder uploaded by "
                "upload_folder, or its upload did not finish (rerun it to resume)"
            ) from None
        staging = folder.with_name(folder.name + ".part")
        _remove(staging)
        try:
            for rel in manifest["files"]:
                target = staging / PurePosixPath(rel)
                if ".." in PurePosixPath(rel).parts:
                    raise InputError(f"{MANIFEST} names a path outside the folder: {rel}")
                self.download_file(f"{prefix}/{rel}", target)
            _remove(folder)
            staging.replace(folder)
        finally:
            _remove(staging)
        return folder

    # ------------------------------------------------------------ bytes and frames

    def read_bytes(self, name: str) -> bytes:
        """A small blob's content (checked against its MD5)."""
        downloader = self._call(self._container.get_blob_client(name).download_blob, name=name)
        data = downloader.readall()
        expected = downloader.properties.content_settings.content_md5
        if expected and hashlib.md5(data).digest() != bytes(expected):
            raise BlobIntegrityError(f"blob {name}: MD5 differs from the recorded one")
        return data

    def upload_frame(self, frame: pd.DataFrame, name: str, *, overwrite: bool = False) -> str:
        """Store a pandas DataFrame as one parquet blob.

        Spark DataFrames are written by Spark itself, in parallel, to an ``abfss://`` or
        ``wasbs://`` path (``frame.write.parquet(...)``); they do not pass through here.
        """
        require_pandas_frame(frame, [], "frame")
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        data = buf.getvalue()
        return self.upload_stream(
            io.BytesIO(data),
            name,
            md5=hashlib.md5(data).digest(),
            length=len(data),
            overwrite=overwrite,
        )

    def download_frame(self, name: str) -> pd.DataFrame:
        """A DataFrame stored by :meth:`upload_frame`."""
        return pd.read_parquet(io.BytesIO(self.read_bytes(name)))


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _code(error: Exception) -> str | None:
    """The service's error code of an Azure SDK error (``error_code``, set at run time)."""
    return getattr(error, "error_code", None)
