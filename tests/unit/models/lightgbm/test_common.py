"""The saved model folder: an interrupted save leaves either the old folder or nothing, never
a half-written one."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommenders_kit.models.lightgbm import _common
from recommenders_kit.models.lightgbm._common import ModelMeta, read_folder, write_folder

META = ModelMeta({"objective": "binary"}, 10, 0, None, ["a"], [])


def test_write_then_read(tmp_path):
    folder = write_folder(tmp_path / "m", "trees", "{}", META)
    assert read_folder(folder) == ("trees", "{}", META)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_folder(tmp_path / "m", "other", "{}", META)
    write_folder(tmp_path / "m", "other", "{}", META, overwrite=True)
    assert read_folder(folder)[0] == "other"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # nothing left beside it


@pytest.mark.parametrize("existing", [False, True], ids=["new folder", "replacing one"])
def test_an_interrupted_save_leaves_no_half_written_folder(tmp_path, monkeypatch, existing):
    if existing:
        write_folder(tmp_path / "m", "old trees", "{}", META)

    def interrupted(self: Path, text: str) -> None:  # the disk fills, or Ctrl-C, mid-save
        if self.name == _common.META_FILE:
            raise KeyboardInterrupt
        original(self, text)

    original = Path.write_text
    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_folder(tmp_path / "m", "new trees", "{}", META, overwrite=True)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == (["m"] if existing else [])
    if existing:
        assert read_folder(tmp_path / "m")[0] == "old trees"


def test_a_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    write_folder(tmp_path / "m", "old trees", "{}", META)
    original = Path.rename

    def failing(self: Path, target: Path) -> Path:
        if Path(target).name == "m" and not self.name.endswith(".replaced"):
            raise OSError("rename failed")  # the new folder cannot be moved into place
        return original(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError, match="rename failed"):
        write_folder(tmp_path / "m", "new trees", "{}", META, overwrite=True)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    assert read_folder(tmp_path / "m")[0] == "old trees"
