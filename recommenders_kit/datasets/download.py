"""Download files into a local cache: retries, resume, checksum, atomic rename, offline mode.

``fetch(url, "ml-100k.zip", sha256=...)`` returns the path of a verified file in the cache
directory. A file only ever appears under its final name once it is complete and its checksum
matched; until then it lives as ``<name>.part`` (kept between attempts so that a later call
resumes it with an HTTP range request).

Settings, each a parameter first and an environment variable second:

=============================  ======================================================
``cache_dir``                  ``RECOMMENDERS_KIT_CACHE`` (default: the user cache dir,
                               e.g. ``~/.cache/recommenders_kit``)
``offline``                    ``RECOMMENDERS_KIT_OFFLINE=1``: never touch the network;
                               a missing file raises :class:`OfflineError` naming the
                               path where to place it
``mirror``                     ``RECOMMENDERS_KIT_MIRROR``: a base URL that replaces the
                               official host, the file is then fetched from
                               ``<mirror>/<cached file name>`` (e.g. ``ml-100k.zip``)
=============================  ======================================================

Example::

    from recommenders_kit.datasets.download import fetch
    path = fetch("https://example.org/data.zip", sha256="9f86d0...")
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import random
import shutil
import socket
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from recommenders_kit._progress import progress_bar
from recommenders_kit.errors import InputError, MissingResourceError, RecommendersKitError
from recommenders_kit.settings import CACHE_ENV, MIRROR_ENV, OFFLINE_ENV, env_flag, env_value

log = logging.getLogger(__name__)


_CHUNK = 1 << 20
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class DownloadError(RecommendersKitError, RuntimeError):
    """A download failed for good (after retries, or on a non-retryable answer)."""


class ChecksumError(DownloadError):
    """The downloaded bytes do not match the expected digest."""

    def __init__(self, path: Path, algorithm: str, expected: str, actual: str):
        super().__init__(
            f"checksum mismatch for {path.name}: expected {algorithm} {expected}, "
            f"got {actual}; the file was discarded (nothing kept at {path})"
        )
        self.path, self.algorithm, self.expected, self.actual = path, algorithm, expected, actual


class OfflineError(DownloadError, MissingResourceError):
    """Offline mode is on and the file is not in the cache."""


def get_cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The data cache directory: ``path``, else ``$RECOMMENDERS_KIT_CACHE``, else the user cache."""
    if path is None:
        path = env_value(CACHE_ENV)
    if path is None:
        import platformdirs

        path = platformdirs.user_cache_dir("recommenders_kit")
    result = Path(path).expanduser()
    result.mkdir(parents=True, exist_ok=True)
    return result


def resolve_url(url: str, name: str, mirror: str | None = None) -> str:
    """The URL to fetch: ``url`` itself, or ``<mirror>/<name>`` when a mirror is set."""
    mirror = mirror if mirror is not None else env_value(MIRROR_ENV)
    if not mirror:
        return url
    return mirror.rstrip("/") + "/" + name


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _expected_digest(sha256: str | None, md5: str | None) -> tuple[str, str] | None:
    if sha256:
        return "sha256", sha256.lower()
    if md5:
        return "md5", md5.lower()
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock next to ``path`` so two processes never write one ``.part``."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one writer at a time is then on the user
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fetch(
    url: str,
    dest: str | os.PathLike | None = None,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    offline: bool | None = None,
    mirror: str | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` into the cache (or return the cached copy) and verify it.

    Args:
        url: where the official file lives.
        dest: file name (relative to the cache directory) or absolute path; defaults to the
            last path segment of ``url``.
        sha256, md5: expected hex digest; ``sha256`` wins when both are given. With neither,
            the file is only checked for completeness (Content-Length) and a warning is logged.
        cache_dir: see :func:`get_cache_dir`.
        offline: never use the network; see the module docstring.
        mirror: base URL of a mirror holding the same file name.
        retries: attempts after the first one on connection errors, timeouts, HTTP 408/429/5xx
            and short reads; waits ``backoff * 2**attempt`` seconds (with jitter) in between.
        timeout: socket timeout per request, in seconds.
        progress: show a tqdm progress bar.

    Returns:
        The path of the complete, verified file.

    Raises:
        OfflineError: offline and the file is not cached.
        ChecksumError: the bytes do not match the digest (no file is left behind).
        DownloadError: a non-retryable HTTP answer (e.g. 404) or retries exhausted.
    """
    if retries < 0:
        raise InputError(f"retries must be >= 0, got {retries}")
    path = _target(url, dest, cache_dir)
    expected = _expected_digest(sha256, md5)
    offline = env_flag(OFFLINE_ENV) if offline is None else offline
    with _locked(path):
        if _cached(path, expected, offline):
            return path
        if offline:
            raise _offline_error(url, path, expected)
        if expected is None:
            log.warning("no checksum known for %s: only its length will be checked", url)
        source = resolve_url(url, path.name, mirror)
        _download_with_retries(url, source, path, expected, retries, backoff, timeout, progress)
    return path


def _target(url: str, dest: str | os.PathLike | None, cache_dir: str | os.PathLike | None) -> Path:
    """Where ``url`` is kept: ``dest`` (absolute, or relative to the cache), else the cache
    and the URL's file name; its folder exists."""
    if not isinstance(url, str) or not url:
        raise InputError(f"url must be a non-empty string, got {url!r}")
    name = Path(urlsplit(url).path).name if dest is None else dest
    if not name:
        raise InputError(f"dest is required: cannot derive a file name from url {url!r}")
    path = Path(name)
    if not path.is_absolute():
        path = get_cache_dir(cache_dir) / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _cached(path: Path, expected: tuple[str, str] | None, offline: bool) -> bool:
    """Whether ``path`` already holds the verified file (a mismatch offline is an error)."""
    if not path.exists():
        return False
    if expected is None or file_digest(path, expected[0]) == expected[1]:
        log.debug("cache hit: %s", path)
        return True
    if offline:
        raise ChecksumError(path, expected[0], expected[1], file_digest(path, expected[0]))
    log.warning("cached %s does not match its checksum; downloading it again", path)
    return False


def _unreachable(
    url: str, source: str, path: Path, expected: tuple[str, str] | None, error: BaseException | None
) -> str:
    """What to do when ``source`` (``url`` or its mirror) cannot be reached: one short
    paragraph."""
    reason = getattr(error, "reason", error)
    digest = f" ({expected[0]} {expected[1]})" if expected else ""
    return (
        f"cannot download {path.name} from {urlsplit(source).netloc}: {reason}. Without internet "
        f"access here, download {url}{digest} on another machine and put it at {path} (or "
        f"install it with `recommenders-kit datasets import ... PATH`), or set ${MIRROR_ENV} to "
        f"a host of your network that serves {path.name}."
    )


def install(
    source: str | os.PathLike,
    url: str,
    dest: str | os.PathLike | None = None,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Put a file fetched elsewhere (``source``) into the cache where :func:`fetch` of
    ``url`` looks for it, after checking it against the digest; returns its cache path.

    Raises:
        ValueError: ``source`` is not the expected file (nothing is copied).
    """
    source = Path(source)
    if not source.is_file():
        raise MissingResourceError(f"{source} is not a file")
    path = _target(url, dest, cache_dir)
    expected = _expected_digest(sha256, md5)
    if expected is not None:
        actual = file_digest(source, expected[0])
        if actual != expected[1]:
            raise InputError(
                f"{source} is not {path.name}: its {expected[0]} is {actual}, expected "
                f"{expected[1]}; nothing was installed"
            )
    part = path.with_name(path.name + ".part")
    with _locked(path):
        shutil.copyfile(source, part)
        os.replace(part, path)
    return path


def _offline_error(url: str, path: Path, expected: tuple[str, str] | None) -> OfflineError:
    digest = f" ({expected[0]} {expected[1]})" if expected else ""
    return OfflineError(
        f"offline mode: {path.name} is not in the cache. Download it from {url}"
        f"{digest} and place it at {path} (or unset ${OFFLINE_ENV} and set "
        f"${MIRROR_ENV} to a host that serves {path.name})"
    )


def _download_with_retries(
    url: str,
    source: str,
    path: Path,
    expected: tuple[str, str] | None,
    retries: int,
    backoff: float,
    timeout: float,
    progress: bool,
) -> None:
    """Download ``source`` (``url`` or its mirror) to ``path``; a failure to reach it says
    what to do instead, naming the official ``url``."""
    part = path.with_name(path.name + ".part")
    last_error: Exception | None = None
    for attempt in range(retries + 1):
        if attempt:
            delay = backoff * 2 ** (attempt - 1) * (1 + 0.25 * random.random())
            log.warning(
                "retrying %s in %.1fs (attempt %d of %d): %s",
                source,
                delay,
                attempt + 1,
                retries + 1,
                last_error,
            )
            time.sleep(delay)
        try:
            resumed = _download_once(source, part, timeout, progress)
        except urllib.error.HTTPError as e:
            if e.code not in _RETRY_STATUS:
                raise DownloadError(f"HTTP {e.code} {e.reason} for {source}") from e
            last_error = e
            continue
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            if isinstance(getattr(e, "reason", None), socket.gaierror):  # retries do not heal
                raise DownloadError(_unreachable(url, source, path, expected, e)) from e
            last_error = e
            continue
        if expected is not None:
            actual = file_digest(part, expected[0])
            if actual != expected[1]:
                part.unlink()
                if resumed:  # the kept partial bytes may be what is wrong: start over once more
                    last_error = ChecksumError(path, expected[0], expected[1], actual)
                    continue
                raise ChecksumError(path, expected[0], expected[1], actual)
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, path)
        return
    message = _unreachable(url, source, path, expected, last_error)
    raise DownloadError(f"{message} ({retries + 1} attempts)") from last_error


def _download_once(url: str, part: Path, timeout: float, progress: bool) -> bool:
    """One HTTP request that appends to ``part``; returns whether it resumed earlier bytes.

    A short read raises ``http.client.IncompleteRead`` (retryable); the bytes received so
    far stay in ``part`` for the next attempt to resume.
    """
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "recommenders-kit"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # nothing left to send: the part may be whole already
            return True
        raise
    with response:
        if offset and response.status != 206:  # the server ignores ranges: start over
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        mode = "ab" if offset else "wb"
        received = offset
        with (
            open(part, mode) as out,
            progress_bar(
                total,
                part.name[: -len(".part")],
                "B",
                progress,
                initial=offset,
                unit_scale=True,
                unit_divisor=1024,
            ) as bar,
        ):
            while block := response.read(_CHUNK):
                out.write(block)
                received += len(block)
                bar.update(len(block))
        if total is not None and received < total:
            raise http.client.IncompleteRead(b"", total - received)
    return offset > 0


class ArchiveError(InputError):
    """An archive is truncated, corrupt, or lacks a member the loader needs."""


def extract(archive: Path, members: list[str], dest_dir: Path) -> dict[str, Path]:
    """Extract ``members`` of a zip or tar(.gz) ``archive`` into ``dest_dir``, atomically.

    Members already extracted are reused. Each one is written to a temporary file in
    ``dest_dir`` and renamed into place, so an interrupted extraction leaves nothing that
    looks complete. A corrupt or truncated archive is deleted (the next call downloads it
    again) and raises :class:`ArchiveError` naming it.

    Returns:
        ``{member: extracted path}``; the path keeps the member's relative path.
    """
    targets = {m: dest_dir / m for m in members}
    todo = [m for m, p in targets.items() if not p.exists()]
    if not todo:
        return targets
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                names = set(zf.namelist())
                _require_members(archive, todo, names)
                for m in todo:
                    with zf.open(m) as src:
                        _atomic_copy(src, targets[m])
        else:
            with tarfile.open(archive) as tf:
                names = set(tf.getnames())
                _require_members(archive, todo, names)
                for m in todo:
                    member = tf.extractfile(m)
                    if member is None:
                        raise ArchiveError(f"{archive}: member {m} is not a regular file")
                    with member:
                        _atomic_copy(member, targets[m])
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error) as e:
        archive.unlink(missing_ok=True)
        raise ArchiveError(
            f"archive {archive} is truncated or corrupt ({e}); it was deleted, the next call "
            "downloads it again"
        ) from e
    return targets


def _require_members(archive: Path, wanted: list[str], names: set[str]) -> None:
    missing = [m for m in wanted if m not in names]
    if missing:
        raise ArchiveError(f"archive {archive} has no member(s) {missing}")


def _atomic_copy(src: IO[bytes], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
