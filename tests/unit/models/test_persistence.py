"""The one way models are saved: an interrupted save leaves the old model (or nothing), never a
half-written folder; on Hadoop URIs a folder without its commit marker is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommenders_kit.errors import ModelFormatError
from recommenders_kit.models.persistence import (
    COMMITTED,
    replacing_folder,
    replacing_uri,
    require_committed,
)


def _save(folder: Path, text: str, overwrite: bool = False) -> None:
    with replacing_folder(folder, overwrite) as staging:
        (staging / "a.txt").write_text(text)
        (staging / "b.txt").write_text(text)


def test_write_then_replace(tmp_path):
    _save(tmp_path / "m", "old")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        _save(tmp_path / "m", "new")
    _save(tmp_path / "m", "new", overwrite=True)
    assert (tmp_path / "m" / "b.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # nothing left beside it


@pytest.mark.parametrize("existing", [False, True], ids=["new folder", "replacing one"])
def test_an_interrupted_save_leaves_no_half_written_folder(tmp_path, existing):
    if existing:
        _save(tmp_path / "m", "old")

    def interrupted() -> None:
        with replacing_folder(tmp_path / "m", True) as staging:
            (staging / "a.txt").write_text("new")
            raise KeyboardInterrupt  # the disk fills, or Ctrl-C, mid-save

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert [p.name for p in tmp_path.iterdir()] == (["m"] if existing else [])
    if existing:
        assert (tmp_path / "m" / "a.txt").read_text() == "old"


def test_a_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    _save(tmp_path / "m", "old")
    original = Path.rename

    def failing(self: Path, target: Path) -> Path:
        if Path(target).name == "m" and not self.name.endswith(".replaced"):
            raise OSError("rename failed")  # the new folder cannot be moved into place
        return original(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError, match="rename failed"):
        _save(tmp_path / "m", "new", overwrite=True)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    assert (tmp_path / "m" / "a.txt").read_text() == "old"


@pytest.mark.spark
def test_hadoop_uris_commit_last_and_keep_the_old_folder(spark, tmp_path):
    uri = (tmp_path / "m").as_uri()

    def save(text: str, fail: bool = False) -> None:
        with replacing_uri(spark, uri, overwrite=True) as staging:
            spark.sparkContext.parallelize([text], 1).saveAsTextFile(f"{staging}/data")
            if fail:
                raise RuntimeError("executor lost")

    save("old")
    assert (tmp_path / "m" / COMMITTED).exists()
    require_committed(spark, uri)
    with pytest.raises(RuntimeError, match="executor lost"):
        save("new", fail=True)
    assert spark.sparkContext.textFile(f"{uri}/data").collect() == ["old"]
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        replacing_uri(spark, uri, overwrite=False).__enter__()
    (tmp_path / "m" / COMMITTED).unlink()  # a copy that stopped half-way: no marker
    with pytest.raises(ModelFormatError, match="save did not finish"):
        require_committed(spark, uri)
