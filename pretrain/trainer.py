"""Pretraining a self-supervised sign encoder (Sign2Vec, DINO, MAE) with the shared loop (:mod:`pretrain.loop`).

:class:`PretrainConfig` names the objective and its model settings; :func:`pretrain` builds the
objective and hands it to :func:`pretrain.loop.fit`, which owns seeding, bf16 autocast, the
optimizer and schedule, gradient accumulation, DDP across processes, ``metrics.jsonl`` (loss,
learning rate, samples/s and the objective's own metrics), ``loss.png`` and the atomic ``last/``
(``model.safetensors``: the objective's whole state, e.g. DINO's teacher too; ``config.yaml``;
``training.pt``). Rerunning the same command resumes exactly. :func:`load_objective` gets the
encoder back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file

from pose.errors import InputError

from .data import PretrainData
from .loop import Run, StepOutput, Trainee, fit
from .optim import OptimConfig
from .runtime import CONFIG, WEIGHTS, distributed_setup, seed_everything


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
        raise InputError(None, f"unknown {cfg.objective} model field {unknown[0]!r} (fields: {fields})")
    return cls(cls.Config(**cfg.model))


def config_text(cfg: PretrainConfig) -> str:
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def load_objective(folder: str | Path, device: str = "cpu"):
    """``(objective, config)`` from a checkpoint folder, weights loaded strictly: the documented way
    to get a pretrained encoder back (``objective.features(...)`` then gives per-frame features)."""
    folder = Path(folder)
    if not (folder / WEIGHTS).is_file() or not (folder / CONFIG).is_file():
        raise InputError(folder, "not a pretraining checkpoint (no model.safetensors / config.yaml)")
    cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(PretrainConfig), OmegaConf.load(folder / CONFIG)))
    objective = build_objective(cfg)
    state = load_file(folder / WEIGHTS)
    mine = objective.state_dict()
    if set(state) != set(mine) or any(state[k].shape != mine[k].shape for k in mine):
        raise InputError(folder, f"weights do not match a {cfg.objective} model with this checkpoint's config")
    objective.load_state_dict(state, strict=True)
    return objective.to(device).eval(), cfg


def pretrain(cfg: PretrainConfig, progress: bool = True, should_stop=None) -> dict:
    """Run (or resume) pretraining; returns steps, last loss, samples/s and the run folder.

    Under torch.distributed (WORLD_SIZE > 1: ``torchrun``, or ``submit pretrain-*`` with several
    tasks) every rank trains on its share of each epoch and DDP averages the gradients."""
    rank, world, device = distributed_setup(cfg.device)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(cfg.seed)
    objective = build_objective(cfg).to(device)
    dataset = objective.dataset(cfg.data, objective.config)

    def save(folder: Path, step: int) -> None:
        save_file({k: v.detach().cpu().contiguous() for k, v in objective.state_dict().items()}, folder / WEIGHTS)

    def load(folder: Path) -> None:
        objective.load_state_dict(load_file(folder / WEIGHTS, device=str(device)), strict=True)

    trainee = Trainee(objective, lambda batch: StepOutput(*objective.loss(batch)), save, load, objective.after_step)
    run = Run(
        out,
        config_text(cfg),
        order_seed=cfg.seed * 1_000_003,
        log_every=cfg.log_every,
        save_every=cfg.save_every,
        num_workers=cfg.num_workers,
        desc=f"pretrain {cfg.objective}",
    )
    objective.train()
    return fit(trainee, dataset, objective.collate, cfg.optim, run, device, rank, world, progress, should_stop)
