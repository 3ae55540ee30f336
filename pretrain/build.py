"""Building and loading a self-supervised sign encoder (Sign2Vec, DINO, MAE): the run config a
pretraining checkpoint records, and the functions that turn it into the objective module.

Pretraining (:mod:`pretrain.trainer`), feature extraction and inference (``translate`` computing an
encoder stream) import this module; it imports none of them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from pose.config_loader import load_config
from pose.errors import MESSAGE, InputError, excerpt, quoted

from .data import PretrainData
from .optim import OptimConfig
from .runtime import CONFIG, WEIGHTS, check_weights, load_weights


@dataclass
class PretrainConfig:
    objective: str = "sign2vec"  # sign2vec, dino or mae
    model: dict[str, Any] = field(default_factory=dict)  # the objective's Config fields
    data: PretrainData = field(default_factory=PretrainData)
    optim: OptimConfig = field(default_factory=OptimConfig)
    output_dir: str = "runs/pretrain"
    seed: int = 0
    device: str = "auto"  # auto (cuda if available), cpu, cuda, cuda:1 ...
    num_workers: int = 0  # DataLoader workers
    log_every: int = 10
    save_every: int = 200


def build_objective(cfg: PretrainConfig):
    """The objective module with its typed model config (unknown fields are one-line errors)."""
    from .objectives import objective_class  # imports every objective, and transformers: only when one is built

    cls = objective_class(cfg.objective)
    known = {f.name for f in dataclasses.fields(cls.Config)}
    unknown = sorted(set(cfg.model) - known)
    if unknown:
        fields = ", ".join(sorted(known))
        raise InputError(None, f"unknown {cfg.objective} model field {quoted(unknown[0])} (fields: {fields})")
    return cls(_typed(cls.Config, cfg.model, cfg.objective))


def _typed(schema, fields: dict, objective: str):
    """The objective's model config, each field converted to its declared type as every config's are
    (``hidden_size: "64"`` is 64) or refused in one line naming it: ``model`` is a free-form mapping in the run
    config, so its values arrive untyped, and a string where a number belongs failed inside ``__post_init__``."""
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), fields))
    except OmegaConfBaseException as err:
        what = (str(err).splitlines() or [type(err).__name__])[0]
        raise InputError(None, f"{objective} model field {err.full_key or '?'}: {excerpt(what, MESSAGE)}") from None


def config_text(cfg: PretrainConfig) -> str:
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def load_objective(folder: str | Path, device: str = "cpu"):
    """``(objective, config)`` from a checkpoint folder, weights loaded strictly: the documented way
    to get a pretrained encoder back (``objective.features(...)`` then gives per-frame features)."""
    folder = Path(folder)
    if not (folder / WEIGHTS).is_file() or not (folder / CONFIG).is_file():
        raise InputError(folder, "not a pretraining checkpoint (no model.safetensors / config.yaml)")
    cfg = load_config(PretrainConfig, folder / CONFIG)
    check_weights(folder / WEIGHTS)  # a damaged file is refused before the model is built
    try:
        objective = build_objective(cfg)
    except InputError as err:  # a model field of the checkpoint's config: that file is what is wrong
        raise InputError(err.path or folder / CONFIG, err.problem) from None
    state = load_weights(folder / WEIGHTS)
    mine = objective.state_dict()
    if set(state) != set(mine) or any(state[k].shape != mine[k].shape for k in mine):
        raise InputError(folder, f"weights do not match a {cfg.objective} model with this checkpoint's config")
    objective.load_state_dict(state, strict=True)
    return objective.to(device).eval(), cfg
