"""One training loop for every self-supervised objective (Sign2Vec, DINO, MAE).

A run folder receives the resolved config, ``metrics.jsonl`` (loss, learning rate, samples/s and
the objective's own metrics), ``loss.png`` and ``last/``: ``model.safetensors`` (the objective's
whole state, e.g. DINO's teacher too), ``config.yaml`` and ``training.pt`` (optimizer, scheduler,
step, data position, RNG state), rewritten atomically. Rerunning the same command resumes exactly:
the resumed run continues the same loss curve. bf16 autocast on CUDA; gradient accumulation;
cosine schedule with linear warmup.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file

from pose.errors import InputError
from pose.io import atomic_folder, atomic_output, recover_folder

from .data import PretrainData

WEIGHTS, CONFIG, TRAINING = "model.safetensors", "config.yaml", "training.pt"


@dataclass
class PretrainOptim:
    lr: float = 5e-4
    weight_decay: float = 0.05
    warmup_ratio: float = 0.05  # of max_steps
    max_steps: int = 1000
    batch_size: int = 8
    grad_accum: int = 1
    grad_clip: float = 1.0  # 0: off
    bf16: bool = True  # autocast on CUDA (CPU runs stay float32)

    def __post_init__(self):
        if self.lr <= 0 or self.max_steps < 1 or self.batch_size < 1 or self.grad_accum < 1:
            raise InputError(None, f"optim values must be positive: {self}")
        if not 0 <= self.warmup_ratio < 1 or self.grad_clip < 0 or self.weight_decay < 0:
            raise InputError(None, f"optim values out of range: {self}")


@dataclass
class PretrainConfig:
    objective: str = "sign2vec"  # sign2vec, dino or mae
    model: dict[str, Any] = field(default_factory=dict)  # the objective's Config fields
    data: PretrainData = field(default_factory=PretrainData)
    optim: PretrainOptim = field(default_factory=PretrainOptim)
    output_dir: str = "runs/pretrain"
    seed: int = 0
    device: str = "auto"
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


def rng_state() -> dict:
    """Python, numpy and torch RNG states (saved with a checkpoint so that a resume is exact)."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def optimizer_step(params, optimizer, scheduler, grad_clip: float) -> None:
    """Clip (if ``grad_clip``), step the optimizer and the schedule, clear the gradients."""
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)


def save_objective(folder: Path, objective, cfg: PretrainConfig, training: dict | None = None) -> None:
    with atomic_folder(folder) as tmp:
        state = {k: v.detach().cpu().contiguous() for k, v in objective.state_dict().items()}
        save_file(state, tmp / WEIGHTS)
        (tmp / CONFIG).write_text(OmegaConf.to_yaml(OmegaConf.structured(cfg)))
        if training is not None:
            torch.save(training, tmp / TRAINING)


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


def plot_loss(metrics: list[dict], path: Path, label: str = "loss") -> None:
    """The loss curve of a run's logged steps as a PNG (training and pretraining alike)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([m["step"] for m in metrics], [m["loss"] for m in metrics], label=label)
    parts = [m for m in metrics if "ctc" in m]  # training with the gloss CTC loss (train.ctc)
    if parts:
        ax.plot([m["step"] for m in parts], [m["ctc"] for m in parts], label="gloss CTC (in the loss, weighted)")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def pretrain(cfg: PretrainConfig, progress: bool = True, should_stop=None) -> dict:
    """Run (or resume) pretraining; returns steps, last loss and the run folder."""
    from torch.utils.data import DataLoader
    from tqdm import tqdm
    from transformers import get_cosine_schedule_with_warmup

    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    objective = build_objective(cfg).to(device)
    dataset = objective.dataset(cfg.data, objective.config)
    params = [p for p in objective.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.optim.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.optim.lr,
    )
    scheduler = get_cosine_schedule_with_warmup(
        optimizer, int(cfg.optim.warmup_ratio * cfg.optim.max_steps), cfg.optim.max_steps
    )
    step, epoch, position, metrics = 0, 0, 0, []
    last = recover_folder(out / "last")
    if (last / TRAINING).is_file():  # resume exactly
        objective.load_state_dict(load_file(last / WEIGHTS, device=str(device)), strict=True)
        state = torch.load(last / TRAINING, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, epoch, position, metrics = state["step"], state["epoch"], state["position"], state["metrics"]
        set_rng_state(state["rng"])
        with atomic_output(out / "metrics.jsonl") as tmp:
            tmp.write_text("".join(json.dumps(m) + "\n" for m in metrics))
    (out / CONFIG).write_text(OmegaConf.to_yaml(OmegaConf.structured(cfg)))
    use_bf16 = cfg.optim.bf16 and device.type == "cuda"
    objective.train()
    bar = tqdm(
        total=cfg.optim.max_steps, initial=step, desc=f"pretrain {cfg.objective}", unit="step", disable=not progress
    )
    log = open(out / "metrics.jsonl", "a")
    running: dict[str, list[float]] = {}
    samples, t0, micro, stopping = 0, time.perf_counter(), 0, False
    try:
        while step < cfg.optim.max_steps and not stopping:
            order = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
            indices = torch.randperm(len(dataset), generator=order).tolist()[position * cfg.optim.batch_size :]
            loader = DataLoader(
                torch.utils.data.Subset(dataset, indices),
                batch_size=cfg.optim.batch_size,
                collate_fn=objective.collate,
                num_workers=cfg.num_workers,
                generator=order,  # its iterator's seed draw must not consume the global RNG (exact resume)
            )
            for batch in loader:
                position += 1
                micro += 1
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    loss, extra = objective.loss(move_to(batch, device))
                (loss / cfg.optim.grad_accum).backward()
                for k, v in {"loss": loss.item(), **extra}.items():
                    running.setdefault(k, []).append(float(v))
                samples += cfg.optim.batch_size
                if micro % cfg.optim.grad_accum:
                    continue
                optimizer_step(params, optimizer, scheduler, cfg.optim.grad_clip)
                step += 1
                objective.after_step(step, cfg.optim.max_steps)
                bar.update(1)
                if step % cfg.log_every == 0 or step == cfg.optim.max_steps:
                    elapsed = time.perf_counter() - t0
                    record = {"step": step, **{k: float(np.mean(v)) for k, v in running.items()}}
                    record |= {"lr": scheduler.get_last_lr()[0], "samples_per_s": samples / elapsed, "epoch": epoch}
                    metrics.append(record)
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                    bar.set_postfix(loss=f"{record['loss']:.3f}")
                    running, samples, t0 = {}, 0, time.perf_counter()
                stopping = should_stop is not None and should_stop(step)
                if step % cfg.save_every == 0 or step == cfg.optim.max_steps or stopping:
                    training = {
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "step": step,
                        "epoch": epoch,
                        "position": position,
                        "rng": rng_state(),
                        "metrics": metrics,
                    }
                    save_objective(last, objective, cfg, training)
                if step >= cfg.optim.max_steps or stopping:
                    break
            else:
                epoch, position = epoch + 1, 0
    finally:
        bar.close()
        log.close()
    if metrics:
        plot_loss(metrics, out / "loss.png")
    return {"steps": step, "loss": metrics[-1]["loss"] if metrics else float("nan"), "output_dir": str(out)}


def move_to(batch, device: torch.device):
    """The batch with every tensor in it (nested in dicts, lists and tuples) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(move_to(v, device) for v in batch)
    return batch
