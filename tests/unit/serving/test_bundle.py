"""The top-k serving bundle."""

import json

import pytest

from recommenders_kit.serving.bundle import save_topk_bundle


def test_bundle_needs_a_fallback(tmp_path):
    with pytest.raises(ValueError, match="popular"):
        save_topk_bundle(tmp_path, [], [], "v1")
    folder = save_topk_bundle(tmp_path / "b", [], [{"itemId": 1, "score": 1.0, "rank": 1}], "v1")
    assert json.loads((folder / "meta.json").read_text())["kind"] == "als-topk"
