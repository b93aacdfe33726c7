"""The ``als-topk`` serving bundle: the folder the scoring service loads for top-k lookups.

A bundle holds ``topk.jsonl`` (the lists as top-k documents, possibly empty when they live in
Cosmos DB), ``popular.json`` (the popularity fallback for users without a list) and
``meta.json`` (``{"kind": "als-topk", "model_version": ..., "users": ...}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recommenders_kit.errors import InputError
from recommenders_kit.storage.topk import LocalTopKStore, check_model_version

TOPK_KIND = "als-topk"


def save_topk_bundle(
    folder: str | Path,
    documents: Iterable[dict[str, Any]],
    popular: list[dict[str, Any]],
    model_version: str,
) -> Path:
    """Write the ``als-topk`` serving folder: ``topk.jsonl``, ``popular.json``, ``meta.json``.

    ``documents`` may be empty when the lists live in Cosmos DB only; the scoring service then
    reads them from the store named by its settings and keeps the popularity fallback.
    """
    check_model_version(model_version)
    if not popular:
        raise InputError("popular must hold at least one item (the fallback for unknown users)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    store = LocalTopKStore(documents)
    store.save(folder / "topk.jsonl")
    (folder / "popular.json").write_text(json.dumps(popular))
    meta = {"kind": TOPK_KIND, "model_version": model_version, "users": len(store)}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return folder
