"""What the two LightGBM click models share: parameters, checks, and the saved folder (internal).

A saved click model is a folder that needs no pickle, the same from either engine:

* ``model.txt``: LightGBM's text model format (``lightgbm.Booster(model_file=...)`` loads it;
  SynapseML writes and reads the same format);
* ``encoder.json``: the encoder's settings and statistics;
* ``meta.json``: :class:`ModelMeta`.

Folders are written through :func:`~recommenders_kit.models.persistence.replacing_folder`:
an interrupted save never leaves a half-written model, nor loses the one it was replacing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recommenders_kit._validate import require_positive_int
from recommenders_kit.constants import DEFAULT_SEED
from recommenders_kit.errors import InputError, MissingResourceError
from recommenders_kit.models.base import Params
from recommenders_kit.models.persistence import replacing_folder

#: LightGBM parameters used unless overridden (names as LightGBM spells them).
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 63,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "max_bin": 255,
    "max_cat_to_onehot": 4,
    "cat_smooth": 10.0,
    "cat_l2": 10.0,
    "verbose": -1,
}
MODEL_FILE, ENCODER_FILE, META_FILE = "model.txt", "encoder.json", "meta.json"


def check_training_args(
    num_boost_round: int, early_stopping_rounds: int, valid_fraction: float
) -> None:
    """Validate the boosting arguments shared by the pandas and Spark models."""
    require_positive_int(num_boost_round, "num_boost_round")
    if early_stopping_rounds < 0:
        raise InputError(f"early_stopping_rounds must be >= 0, got {early_stopping_rounds}")
    if not 0 < valid_fraction < 1:
        raise InputError(f"valid_fraction must be in (0, 1), got {valid_fraction}")


@dataclass(frozen=True)
class ModelMeta:
    """What ``meta.json`` records about a trained click model.

    ``params``: the LightGBM parameters training used (defaults, the user's, the seed);
    ``best_iteration``: the trees to use when scoring (None: all of them); ``valid``: the
    validation AUC and logloss at that iteration, when known; ``trained_with``: ``lightgbm``
    or ``synapseml``; ``model_version``: a label the scoring service reports (default: the
    folder's name); ``model_params``: the model's constructor keywords but the encoder (its
    own ``encoder.json`` holds it), so ``load`` gives back the model that was saved (None in
    folders written before it was recorded).
    """

    params: dict[str, Any]
    num_boost_round: int
    early_stopping_rounds: int
    best_iteration: int | None
    features: list[str]
    categorical_features: list[str]
    trees: int | None = None
    valid: dict[str, float] = field(default_factory=dict)
    trained_with: str = "lightgbm"
    model_version: str | None = None
    model_params: dict[str, Any] | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=float)

    @classmethod
    def from_json(cls, text: str) -> ModelMeta:
        data = json.loads(text)
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def write_folder(
    path: str | os.PathLike[str],
    model_text: str,
    encoder_json: str,
    meta: ModelMeta,
    overwrite: bool = False,
) -> str:
    """Write the three files into the folder ``path`` through
    :func:`~recommenders_kit.models.persistence.replacing_folder` (an existing folder is
    replaced only with ``overwrite``, and kept if the save fails). Returns the folder."""
    with replacing_folder(path, overwrite) as staging:
        (staging / MODEL_FILE).write_text(model_text)
        (staging / ENCODER_FILE).write_text(encoder_json)
        (staging / META_FILE).write_text(meta.to_json())
    return str(path)


def read_folder(path: str | os.PathLike[str]) -> tuple[str, str, ModelMeta | None]:
    """(model text, encoder JSON, meta or None) of a saved folder, or ``FileNotFoundError``."""
    folder = Path(path)
    for name in (MODEL_FILE, ENCODER_FILE):
        if not (folder / name).exists():
            raise MissingResourceError(f"{folder / name} is missing: not a saved click model")
    meta_path = folder / META_FILE
    meta = ModelMeta.from_json(meta_path.read_text()) if meta_path.exists() else None
    return (folder / MODEL_FILE).read_text(), (folder / ENCODER_FILE).read_text(), meta


def saved_params(model: Params) -> dict[str, Any]:
    """The constructor keywords ``meta.json`` records: all but the encoder."""
    return {k: v for k, v in model.get_params().items() if k != "encoder"}


def restored_params(meta: ModelMeta | None) -> dict[str, Any]:
    """The constructor keywords (but the encoder) of a saved model: as saved; for a folder
    written before they were recorded, the training parameters that differ from the
    defaults and the boosting settings; none without ``meta.json``."""
    if meta is None:
        return {"progress": False}
    if meta.model_params is not None:
        return dict(meta.model_params)
    ignored = {"seed", "data_random_seed", "metric"}
    params = {
        k: v for k, v in meta.params.items() if k not in ignored and DEFAULT_PARAMS.get(k) != v
    }
    return {
        "params": params,
        "num_boost_round": meta.num_boost_round,
        "early_stopping_rounds": meta.early_stopping_rounds,
        "seed": meta.params.get("seed", DEFAULT_SEED),
        "progress": False,
    }
