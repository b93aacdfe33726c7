"""Test data from ``../shared/data``, repacked the way the official archives are laid out."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("RECOMMENDERS_KIT_TEST_DATA", ROOT.parent / "shared" / "data"))


def shared(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        raise FileNotFoundError(
            f"test data {path} is missing: the tests read ../shared/data beside the checkout "
            "(or $RECOMMENDERS_KIT_TEST_DATA)"
        )
    return path


def read_shared(relative: str) -> bytes:
    """Bytes of a shared file; ``.gz`` files are returned uncompressed."""
    path = shared(relative)
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def tar_gz_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def ml100k_zip() -> bytes:
    """``ml-100k.zip`` as GroupLens lays it out, built from the real files."""
    names = ["u.data", "u.item", "u.genre", "u.user", "u.info", "u.occupation", "README"]
    return zip_bytes({f"ml-100k/{n}": read_shared(f"movielens/ml-100k/{n}") for n in names})


def ml1m_zip() -> bytes:
    """An ``ml-1m.zip`` layout with the real movies and the partial ratings (users 1-2999)."""
    return zip_bytes(
        {
            "ml-1m/ratings.dat": read_shared(
                "movielens/ml-1m/ratings.partial-users-0001-2999.dat.gz"
            ),
            "ml-1m/movies.dat": read_shared("movielens/ml-1m/movies.dat.gz"),
        }
    )


def ml_csv_zip(folder: str) -> bytes:
    """A csv-format archive (``ml-20m`` and later) filled with the real ml-latest-small."""
    return zip_bytes(
        {
            f"{folder}/ratings.csv": read_shared("movielens/ml-latest-small/ratings.csv.gz"),
            f"{folder}/movies.csv": read_shared("movielens/ml-latest-small/movies.csv.gz"),
        }
    )


def criteo_tar_gz(member: str = "dac_sample.txt") -> bytes:
    """A ``dac_sample.tar.gz`` layout holding the real 1,000-row Criteo extract."""
    return tar_gz_bytes({member: read_shared("criteo/train_head.txt")})


def seed_movielens_100k(cache: Path) -> Path:
    """Put the real extracted ml-100k files in a data cache, as a verified download does."""
    folder = cache / "ml-100k"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ["u.data", "u.item", "u.genre"]:
        (folder / name).write_bytes(read_shared(f"movielens/ml-100k/{name}"))
    return cache


#: The folder of the Criteo sample in a data cache.
CRITEO_SAMPLE = "dac_sample"


def seed_criteo_sample(cache: Path) -> Path:
    """Place the real 1,000 Criteo rows in a data cache where the sample's data file goes."""
    folder = cache / CRITEO_SAMPLE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dac_sample.txt").write_bytes(read_shared("criteo/train_head.txt"))
    return cache
