"""The saved click-model folder: its three files, and the constructor keywords that ``load``
gives back (also from folders written before they were recorded)."""

from __future__ import annotations

import dataclasses

import pytest

from recommenders_kit.models.lightgbm._common import (
    ModelMeta,
    read_folder,
    restored_params,
    write_folder,
)

META = ModelMeta({"objective": "binary"}, 10, 0, None, ["a"], [])


def test_write_then_read(tmp_path):
    folder = write_folder(tmp_path / "m", "trees", "{}", META)
    assert read_folder(folder) == ("trees", "{}", META)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_folder(tmp_path / "m", "other", "{}", META)
    write_folder(tmp_path / "m", "other", "{}", META, overwrite=True)
    assert read_folder(folder)[0] == "other"


def test_restored_params_are_the_saved_ones_or_what_an_old_folder_tells():
    saved = dataclasses.replace(META, model_params={"params": {"num_leaves": 15}, "seed": 3})
    assert restored_params(saved) == {"params": {"num_leaves": 15}, "seed": 3}
    # older folders saved only the booster's parameters: keep those the user changed
    old = dataclasses.replace(
        META,
        params={"objective": "binary", "num_leaves": 15, "max_bin": 255, "seed": 3},
        num_boost_round=40,
    )
    assert restored_params(old) == {
        "params": {"num_leaves": 15},
        "num_boost_round": 40,
        "early_stopping_rounds": 0,
        "seed": 3,
        "progress": False,
    }
