"""BlobStore against a real Azurite Blob service started by the tests."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.errors import AccessDeniedError, MissingResourceError
from recommenders_kit.storage.blob import MANIFEST, BlobIntegrityError, BlobStore
from tests.support.local_servers import AZURITE_KEY

# small blocks and chunks so that uploads and downloads take several requests
SMALL = {
    "max_single_put_size": 4 * 2**20,
    "max_block_size": 2 * 2**20,
    "max_single_get_size": 2 * 2**20,
    "max_chunk_get_size": 2 * 2**20,
}


def _container() -> str:
    return "c" + uuid.uuid4().hex[:12]


@pytest.fixture
def store(azurite) -> BlobStore:
    return BlobStore(_container(), connection_string=azurite, create_container=True, **SMALL)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_50mb_file_round_trip_in_blocks_with_md5(store, tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(50 * 2**20))
    store.upload_file(src, "data/big.bin")
    assert store.md5("data/big.bin") == hashlib.md5(src.read_bytes()).digest()
    out = store.download_file("data/big.bin", tmp_path / "out" / "big.bin")
    assert _sha(out) == _sha(src)
    assert not (tmp_path / "out" / "big.bin.part").exists()


def test_model_folder_round_trip_serves_the_same_predictions(store, tmp_path):
    from recommenders_kit.datasets.criteo_synthetic import generate
    from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel

    frame, _ = generate(3000, seed=3)
    model = LightGBMClickModel(num_boost_round=20, progress=False).fit(frame)
    saved = Path(model.save(tmp_path / "model"))
    (saved / "nested").mkdir()
    (saved / "nested" / "notes.txt").write_text("a file one level down")
    manifest = store.upload_folder(saved, "models/criteo/v1")
    assert set(manifest["files"]) == {"model.txt", "encoder.json", "meta.json", "nested/notes.txt"}
    assert f"models/criteo/v1/{MANIFEST}" in store.list("models/criteo/v1/")
    back = store.download_folder("models/criteo/v1", tmp_path / "back")
    assert (back / "nested" / "notes.txt").read_text() == "a file one level down"
    loaded = LightGBMClickModel.load(back)
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))


def test_overwrite_only_when_asked(store, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("first")
    b.write_text("second")
    store.upload_file(a, "x.txt")
    with pytest.raises(FileExistsError, match="x.txt exists: pass overwrite=True"):
        store.upload_file(b, "x.txt")
    assert store.read_bytes("x.txt") == b"first"
    store.upload_file(b, "x.txt", overwrite=True)
    assert store.read_bytes("x.txt") == b"second"
    with pytest.raises(FileExistsError, match="overwrite=True"):
        store.download_file("x.txt", a)
    assert a.read_text() == "first"
    store.download_file("x.txt", a, overwrite=True)
    assert a.read_text() == "second"


class _Breaks(io.RawIOBase):
    """A readable stream of ``size`` bytes that fails after ``fail_at`` bytes."""

    def __init__(self, size: int, fail_at: int):
        self.size, self.fail_at, self.pos = size, fail_at, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self.pos >= self.fail_at:
            raise ConnectionResetError("network gone")
        n = min(len(buf), self.size - self.pos, self.fail_at - self.pos)
        buf[:n] = b"x" * n
        self.pos += n
        return n


def test_interrupted_upload_leaves_no_partial_blob(store, tmp_path):
    size = 12 * 2**20
    with pytest.raises(ConnectionResetError):
        store.upload_stream(_Breaks(size, 7 * 2**20), "new.bin", md5=b"0" * 16, length=size)
    assert not store.exists("new.bin")

    old = tmp_path / "old.bin"
    old.write_bytes(b"old content")
    store.upload_file(old, "kept.bin")
    with pytest.raises(ConnectionResetError):
        store.upload_stream(
            _Breaks(size, 7 * 2**20), "kept.bin", md5=b"0" * 16, length=size, overwrite=True
        )
    assert store.read_bytes("kept.bin") == b"old content"


def _failing_on(predicate):
    """A pipeline hook that fails the requests matching ``predicate`` and counts the rest."""
    seen = []

    def hook(request):
        http = request.http_request
        if predicate(http):
            raise ConnectionResetError(f"injected failure on {http.method} {http.url}")
        seen.append((http.method, http.url))

    return hook, seen


def test_interrupted_folder_upload_is_refused_then_resumed(azurite, tmp_path):
    container = _container()
    folder = tmp_path / "model"
    folder.mkdir()
    for i in range(5):
        (folder / f"part-{i}").write_bytes(os.urandom(1000 + i))
    hook, _ = _failing_on(lambda r: r.method == "PUT" and "part-3" in r.url)
    broken = BlobStore(
        container, connection_string=azurite, create_container=True, raw_request_hook=hook
    )
    with pytest.raises(ConnectionResetError):
        broken.upload_folder(folder, "m")
    store = BlobStore(container, connection_string=azurite)
    assert store.list("m/") == [f"m/part-{i}" for i in range(3)]
    with pytest.raises(FileNotFoundError, match="upload did not finish"):
        store.download_folder("m", tmp_path / "back")
    assert not (tmp_path / "back").exists()

    counter, puts = _failing_on(lambda r: False)
    resumed = BlobStore(container, connection_string=azurite, raw_request_hook=counter)
    resumed.upload_folder(folder, "m")
    uploaded = sorted(url.split("/m/")[1].split("?")[0] for method, url in puts if method == "PUT")
    assert uploaded == [MANIFEST, "part-3", "part-4"]  # the first three were not sent again
    back = store.download_folder("m", tmp_path / "back")
    assert sorted(p.name for p in back.iterdir()) == [f"part-{i}" for i in range(5)]
    assert all(_sha(back / p.name) == _sha(p) for p in folder.iterdir())
    with pytest.raises(FileExistsError, match="overwrite=True"):
        store.upload_folder(folder, "m")


def test_interrupted_download_leaves_nothing(azurite, tmp_path):
    container = _container()
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(9 * 2**20))
    BlobStore(container, connection_string=azurite, create_container=True).upload_file(src, "f")
    gets = []

    def hook(request):
        if request.http_request.method == "GET":
            gets.append(1)
            if len(gets) == 3:
                raise ConnectionResetError("injected failure on the third range")

    store = BlobStore(container, connection_string=azurite, raw_request_hook=hook, **SMALL)
    with pytest.raises(ConnectionResetError):
        store.download_file("f", tmp_path / "dest.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.bin"]


def test_corrupted_blob_is_detected(store, tmp_path):
    from azure.storage.blob import ContentSettings

    blob = store._container.get_blob_client("bad.bin")
    wrong = bytearray(hashlib.md5(b"something else").digest())
    blob.upload_blob(b"payload")  # a Put Blob with a wrong MD5 is refused by the service,
    blob.set_http_headers(ContentSettings(content_md5=wrong))  # so corrupt the property after
    with pytest.raises(BlobIntegrityError, match="bad.bin: MD5 of the downloaded bytes"):
        store.download_file("bad.bin", tmp_path / "bad.bin")
    assert list(tmp_path.iterdir()) == []


def test_wrong_credentials_name_the_account_not_the_key(azurite):
    wrong_key = "A" * 86 + "=="
    store = BlobStore("anything", connection_string=azurite.replace(AZURITE_KEY, wrong_key))
    with pytest.raises(AccessDeniedError, match="devstoreaccount1") as info:
        store.list()
    assert wrong_key not in str(info.value)
    assert AZURITE_KEY not in repr(store)


def test_missing_container(azurite):
    name = _container()
    with pytest.raises(
        MissingResourceError, match=f"container '{name}' does not exist.*create_cont"
    ):
        BlobStore(name, connection_string=azurite).list()
    assert BlobStore(name, connection_string=azurite, create_container=True).list() == []


def test_sas_token_grants_what_it_says(store, azurite, tmp_path):
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    url = azurite.split("BlobEndpoint=")[1].rstrip(";")
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)

    def sas(**perms):
        return generate_container_sas(
            "devstoreaccount1",
            store.container_name,
            account_key=AZURITE_KEY,
            permission=ContainerSasPermissions(**perms),
            expiry=expiry,
        )

    src = tmp_path / "f.txt"
    src.write_text("via SAS")
    writer = BlobStore(
        store.container_name,
        account_url=url,
        sas_token="?" + sas(write=True, create=True, read=True, list=True),
    )
    writer.upload_file(src, "f.txt")
    reader = BlobStore(store.container_name, account_url=url, sas_token=sas(read=True, list=True))
    assert reader.read_bytes("f.txt") == b"via SAS"
    with pytest.raises(PermissionError, match="refused"):
        reader.upload_file(src, "g.txt")


def test_dataframe_round_trip(store):
    frame = pd.DataFrame(
        {"userID": [1, 2, 3], "title": ["a", None, "c"], "score": [0.5, np.nan, 1.25]}
    )
    store.upload_frame(frame, "frames/f.parquet")
    pd.testing.assert_frame_equal(store.download_frame("frames/f.parquet"), frame)
    with pytest.raises(TypeError, match="frame"):
        store.upload_frame([1, 2], "frames/g.parquet")
