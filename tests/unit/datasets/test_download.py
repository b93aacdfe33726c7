"""fetch() against a real loopback HTTP server: cache, resume, retries, checksums, offline."""

from __future__ import annotations

import os
import threading

import pytest

from recommenders_kit.datasets import download as dl
from tests.support.data import ml100k_zip, sha256, zip_bytes
from tests.support.http_server import FileServer

PAYLOAD = os.urandom(3 * (1 << 20) + 123)  # a bit over 3 MiB: several read chunks


@pytest.fixture
def server():
    with FileServer({"data.bin": PAYLOAD, "other.bin": b"x" * 1000}) as s:
        yield s


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.delenv(dl.MIRROR_ENV, raising=False)
    monkeypatch.delenv(dl.OFFLINE_ENV, raising=False)
    return tmp_path / "cache"


def _fetch(server, cache, **kw):
    kw.setdefault("sha256", sha256(PAYLOAD))
    return dl.fetch(f"{server.url}/data.bin", cache_dir=cache, backoff=0.01, progress=False, **kw)


def _leftovers(cache):
    return sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))


def test_first_download_then_cache_hit(server, cache):
    path = _fetch(server, cache)
    assert path == cache / "data.bin"
    assert path.read_bytes() == PAYLOAD
    assert _leftovers(cache) == ["data.bin"]
    assert len(server.requests) == 1
    assert _fetch(server, cache) == path
    assert len(server.requests) == 1, "a verified cached file must not be downloaded again"


def test_resume_after_interrupted_transfer(server, cache):
    cut = 1_500_000
    server.faults["data.bin"].append(("cut", cut))
    path = _fetch(server, cache)
    assert path.read_bytes() == PAYLOAD
    assert [r for _, r in server.requests] == [None, f"bytes={cut}-"]
    assert server.bytes_sent == len(PAYLOAD), "the second request must send only the rest"


def test_partial_file_from_an_earlier_process_is_resumed(server, cache):
    cache.mkdir()
    (cache / "data.bin.part").write_bytes(PAYLOAD[:1000])
    assert _fetch(server, cache).read_bytes() == PAYLOAD
    assert server.requests == [("data.bin", "bytes=1000-")]


def test_corrupt_partial_file_is_discarded_and_downloaded_again(server, cache):
    cache.mkdir()
    (cache / "data.bin.part").write_bytes(b"garbage" * 100)
    assert _fetch(server, cache).read_bytes() == PAYLOAD
    assert [r for _, r in server.requests] == ["bytes=700-", None]


def test_server_ignoring_ranges_restarts_cleanly(server, cache):
    server.faults["data.bin"].extend([("cut", 10_000), ("ignore_range", None)])
    assert _fetch(server, cache).read_bytes() == PAYLOAD


def test_retry_after_http_500s(server, cache):
    server.faults["data.bin"].extend([("status", 500), ("status", 503), ("status", 429)])
    assert _fetch(server, cache).read_bytes() == PAYLOAD
    assert len(server.requests) == 4


def test_gives_up_after_retries_without_leaving_a_complete_looking_file(server, cache):
    server.faults["data.bin"].extend([("status", 500)] * 3)
    with pytest.raises(dl.DownloadError, match=r"put it at .*data\.bin.* \(3 attempts\)"):
        _fetch(server, cache, retries=2)
    assert "data.bin" not in _leftovers(cache)


def test_an_unknown_host_fails_at_once_saying_what_to_do(cache, monkeypatch):
    waits: list[float] = []
    real_sleep, caller = dl.time.sleep, threading.current_thread()

    def sleep(seconds: float) -> None:  # time.sleep is process-wide: other threads really wait
        if threading.current_thread() is caller:
            waits.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(dl.time, "sleep", sleep)
    url = "http://files.example.invalid/data.bin"
    with pytest.raises(dl.DownloadError) as failure:
        dl.fetch(url, cache_dir=cache, sha256=sha256(PAYLOAD), progress=False)
    assert waits == []  # a name that does not resolve is not retried
    message = str(failure.value)
    assert message.startswith("cannot download data.bin from files.example.invalid: ")
    assert f"download {url} (sha256 {sha256(PAYLOAD)}) on another machine" in message
    assert f"put it at {cache / 'data.bin'}" in message
    assert "$RECOMMENDERS_KIT_MIRROR" in message


def test_install_checks_the_file_and_places_it_where_fetch_looks(tmp_path, cache):
    good, bad = tmp_path / "good.bin", tmp_path / "bad.bin"
    good.write_bytes(PAYLOAD)
    bad.write_bytes(PAYLOAD[:-1])
    url = "https://files.example.invalid/data.bin"
    with pytest.raises(ValueError, match=r"bad\.bin is not data\.bin: its sha256 is"):
        dl.install(bad, url, sha256=sha256(PAYLOAD), cache_dir=cache)
    assert not (cache / "data.bin").exists()
    path = dl.install(good, url, sha256=sha256(PAYLOAD), cache_dir=cache)
    assert path == cache / "data.bin"
    assert dl.fetch(url, cache_dir=cache, sha256=sha256(PAYLOAD), offline=True) == path
    assert path.read_bytes() == PAYLOAD


def test_404_is_not_retried(server, cache):
    with pytest.raises(dl.DownloadError, match="HTTP 404"):
        dl.fetch(f"{server.url}/missing.bin", cache_dir=cache, backoff=0.01, progress=False)
    assert len(server.requests) == 1


def test_checksum_mismatch_names_file_and_digests_and_keeps_nothing(server, cache):
    wrong = "0" * 64
    with pytest.raises(dl.ChecksumError) as info:
        _fetch(server, cache, sha256=wrong)
    message = str(info.value)
    assert "data.bin" in message
    assert wrong in message
    assert sha256(PAYLOAD) in message
    assert _leftovers(cache) == []


def test_md5_is_accepted_when_no_sha256_is_known(server, cache):
    import hashlib

    path = _fetch(server, cache, sha256=None, md5=hashlib.md5(PAYLOAD).hexdigest())
    assert path.read_bytes() == PAYLOAD


def test_cached_file_with_wrong_checksum_is_replaced(server, cache):
    cache.mkdir()
    (cache / "data.bin").write_bytes(b"stale copy")
    assert _fetch(server, cache).read_bytes() == PAYLOAD


def test_offline_mode_names_the_file_to_place(server, cache, monkeypatch):
    monkeypatch.setenv(dl.OFFLINE_ENV, "1")
    with pytest.raises(dl.OfflineError) as info:
        _fetch(server, cache)
    assert str(cache / "data.bin") in str(info.value)
    assert sha256(PAYLOAD) in str(info.value)
    assert server.requests == []
    # once the file is placed there, offline mode uses it
    (cache / "data.bin").write_bytes(PAYLOAD)
    assert _fetch(server, cache).read_bytes() == PAYLOAD
    assert server.requests == []


def test_offline_mode_rejects_a_placed_file_with_the_wrong_checksum(server, cache):
    cache.mkdir()
    (cache / "data.bin").write_bytes(b"not it")
    with pytest.raises(dl.ChecksumError):
        _fetch(server, cache, offline=True)


def test_mirror_replaces_the_host(server, cache, monkeypatch):
    monkeypatch.setenv(dl.MIRROR_ENV, server.url + "/")
    path = dl.fetch(
        "https://unreachable.invalid/some/dir/data.bin",
        cache_dir=cache,
        sha256=sha256(PAYLOAD),
        progress=False,
    )
    assert path.read_bytes() == PAYLOAD


def test_cache_dir_from_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv(dl.CACHE_ENV, str(tmp_path / "envcache"))
    monkeypatch.delenv(dl.MIRROR_ENV, raising=False)
    path = dl.fetch(f"{server.url}/other.bin", progress=False, sha256=sha256(b"x" * 1000))
    assert path == tmp_path / "envcache" / "other.bin"


def test_bad_arguments():
    with pytest.raises(ValueError, match="url"):
        dl.fetch("")
    with pytest.raises(ValueError, match="retries"):
        dl.fetch("http://127.0.0.1/x", retries=-1)


def test_extract_is_atomic_and_reuses_members(tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_bytes({"d/x.txt": b"hello", "d/y.txt": b"world"}))
    out = dl.extract(archive, ["d/x.txt"], tmp_path / "out")
    assert out["d/x.txt"].read_bytes() == b"hello"
    out["d/x.txt"].write_bytes(b"kept")  # already extracted: not rewritten
    assert dl.extract(archive, ["d/x.txt"], tmp_path / "out")["d/x.txt"].read_bytes() == b"kept"
    with pytest.raises(dl.ArchiveError, match="no member"):
        dl.extract(archive, ["d/z.txt"], tmp_path / "out")


def test_truncated_archive_is_deleted_with_a_clear_error(tmp_path):
    archive = tmp_path / "ml-100k.zip"
    archive.write_bytes(ml100k_zip()[:-5000])
    with pytest.raises(dl.ArchiveError, match="truncated or corrupt"):
        dl.extract(archive, ["ml-100k/u.data"], tmp_path / "out")
    assert not archive.exists()
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == [], "no partial member"
