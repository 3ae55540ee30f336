"""The one training loop of every stage: encoder pretraining (Sign2Vec, DINO, MAE) and SignLLaVA's
stages 1 and 2 (:mod:`signllava.train`).

A stage seeds (:func:`~pretrain.runtime.seed_everything`), joins its processes
(:func:`~pretrain.runtime.distributed_setup`: one rank per process under ``torchrun``, or per
SLURM task after submitit's ``TorchDistributedEnvironment().export()``), builds its model, and
hands :func:`fit` a :class:`Trainee` (its module, its step: batch -> loss and metrics, and how it
writes and reads its weights), a dataset and its collate function, an
:class:`~pretrain.optim.OptimConfig` and a :class:`Run`. The loop owns the rest, once for all
stages: RNG state, bf16 autocast, AdamW with the one weight-decay rule and warmup + cosine
(:mod:`pretrain.optim`), gradient accumulation, clipping, DDP, the atomic ``last/`` checkpoint with
exact resume, ``metrics.jsonl`` and the loss plot.

The run folder receives ``config.yaml`` (the resolved config), ``metrics.jsonl`` (one line per
logged step), ``loss.png`` and ``last/``: the trainee's files (its weights, ``model.safetensors``,
and whatever it records beside them), ``config.yaml`` and ``training.pt`` (optimizer, scheduler,
step, epoch, data position, RNG state, the logged metrics), rewritten atomically every
``save_every`` steps. Rerunning the same command resumes exactly: the resumed run continues the
same loss curve, and a rerun after the last step does nothing.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from pose.io import atomic_folder, atomic_output, make_folder, recover_folder

from .optim import OptimConfig, make_optimizer
from .runtime import CONFIG, TRAINING, all_mean, load_training_state, move_to, rng_state, set_rng_state


class StepOutput(NamedTuple):
    """What a trainee's step returns for one micro-batch."""

    loss: torch.Tensor  # scalar, backpropagated
    metrics: Mapping[str, float] = {}  # logged as their mean over the logged steps (e.g. ctc, perplexity)
    tokens: int = 0  # tokens processed (LLM stages), for tokens/s; 0: not counted


@dataclass
class Trainee:
    """What a stage hands the loop: its module and how to step, save and load it."""

    module: nn.Module  # every parameter with requires_grad trains; DDP wraps it across ranks
    step: Callable[[Any], StepOutput]  # a batch (moved to the device) -> loss; computes with ``module``
    save: Callable[[Path, int], None]  # (folder being written, step): the weights and their metadata
    load: Callable[[Path], None]  # restore those weights from a checkpoint folder (resume)
    after_step: Callable[[int, int], None] | None = None  # (step, max_steps), after each optimizer step


@dataclass
class Run:
    """Where a run writes and how it logs; the seeds of its data order."""

    output_dir: str | Path
    config_yaml: str  # the resolved config, saved beside the outputs and in every checkpoint
    order_seed: int  # epoch e's data order is the permutation seeded with order_seed + e
    log_every: int = 10
    save_every: int = 200
    num_workers: int = 0  # DataLoader worker processes
    desc: str = "train"  # progress bar label
    plot_label: str = "loss"
    plot_parts: Mapping[str, str] = field(default_factory=dict)  # logged parts also drawn: {key: label}
    on_epoch: Callable[[int], None] | None = None  # called with each epoch before its batches (dataset.set_epoch)


# --- outputs -----------------------------------------------------------------------------------


def plot_loss(metrics: list[dict], path: Path, label: str = "loss", parts: Mapping[str, str] | None = None) -> None:
    """The loss curve of a run's logged steps as a PNG, with the logged ``parts`` ({key: label})."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([m["step"] for m in metrics], [m["loss"] for m in metrics], label=label)
    for key, part_label in (parts or {}).items():
        logged = [m for m in metrics if key in m]
        if logged:
            ax.plot([m["step"] for m in logged], [m[key] for m in logged], label=part_label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class _Stepper(nn.Module):
    """The trainee's step as a module's forward: DDP runs its gradient hooks around ``forward``."""

    def __init__(self, module: nn.Module, step: Callable[[Any], StepOutput]):
        super().__init__()
        self.module = module
        self.step = step

    def forward(self, batch) -> StepOutput:
        return self.step(batch)


def _batches(dataset, collate: Callable, run: Run, optim: OptimConfig, epoch: int, skip: int, rank: int, world: int):
    """Epoch ``epoch``'s batches for this rank in their seeded order, after the first ``skip``."""
    from torch.utils.data import DataLoader, Subset
    from torch.utils.data.distributed import DistributedSampler

    if run.on_epoch is not None:
        run.on_epoch(epoch)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=run.order_seed)
    sampler.set_epoch(epoch)  # the permutation seeded with order_seed + epoch
    indices = list(sampler)[skip * optim.batch_size :]  # resuming mid-epoch loads only what is left
    return DataLoader(
        Subset(dataset, indices),
        batch_size=optim.batch_size,
        collate_fn=collate,
        num_workers=run.num_workers,
        # the iterator's seed draw comes from here, not from the global RNG (a resume stays exact)
        generator=torch.Generator().manual_seed(run.order_seed + epoch),
    )


def fit(
    trainee: Trainee,
    dataset,
    collate: Callable,
    optim: OptimConfig,
    run: Run,
    device: torch.device,
    rank: int = 0,
    world: int = 1,
    progress: bool = True,
    should_stop: Callable[[int], bool] | None = None,
) -> dict:
    """Train (or resume) ``trainee`` on ``dataset``; returns a summary: steps, last loss, throughput,
    run folder, rank and world size.

    Under torch.distributed (``world`` > 1) every rank trains on its share of each epoch's order and
    DDP averages the gradients of the trainable parameters; rank 0 writes logs and checkpoints.
    ``should_stop(step)`` is asked after every optimizer step; when any rank's returns True the run
    saves ``last/`` and returns early (a preemption or time-limit handler), and the next call resumes.
    """
    from torch.nn.parallel import DistributedDataParallel
    from tqdm import tqdm

    out = Path(run.output_dir)
    make_folder(out)  # only now: a run refused for its data leaves no empty folder
    module = trainee.module
    optimizer, scheduler = make_optimizer(module, optim)
    step, epoch, position, metrics = 0, 0, 0, []
    last = recover_folder(out / "last")  # a kill mid-save leaves the previous last/ parked beside it
    if (last / TRAINING).is_file():  # resume exactly
        state = load_training_state(last / TRAINING)  # first: a refused file loads nothing
        trainee.load(last)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, epoch, position = state["step"], state["epoch"], state["position"]
        set_rng_state(state["rng"])
        metrics = state.get("metrics", [])
        if rank == 0:  # the log holds exactly the checkpoint's steps: lines of a lost tail are dropped
            with atomic_output(out / "metrics.jsonl") as tmp:
                tmp.write_text("".join(json.dumps(m) + "\n" for m in metrics))
            print(f"resumed from {last} at step {step}", flush=True)
    if rank == 0:
        (out / CONFIG).write_text(run.config_yaml)
    use_bf16 = optim.bf16 and device.type == "cuda"
    stepper = _Stepper(module, trainee.step)
    if world > 1:  # DDP syncs only the trainable parameters (a frozen LLM has none to sync)
        stepper = DistributedDataParallel(stepper, device_ids=[device.index] if device.type == "cuda" else None)
    trainable = [p for p in module.parameters() if p.requires_grad]
    bar = tqdm(total=optim.max_steps, initial=step, desc=run.desc, unit="step", disable=not progress or rank > 0)
    log = open(out / "metrics.jsonl", "a") if rank == 0 else None
    running: dict[str, list[float]] = {}
    tokens, samples, t0, micro, stopping = 0, 0, time.perf_counter(), 0, False
    try:
        while step < optim.max_steps and not stopping:
            for batch in _batches(dataset, collate, run, optim, epoch, position, rank, world):
                position += 1
                micro += 1
                syncing = micro % optim.grad_accum == 0
                sync = contextlib.nullcontext() if syncing or world == 1 else stepper.no_sync()
                with sync:
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                        result = stepper(move_to(batch, device))
                    (result.loss / optim.grad_accum).backward()
                for k, v in {"loss": result.loss.item(), **result.metrics}.items():
                    running.setdefault(k, []).append(float(v))
                tokens += result.tokens
                samples += optim.batch_size
                if not syncing:
                    continue
                if optim.grad_clip:
                    torch.nn.utils.clip_grad_norm_(trainable, optim.grad_clip)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                if trainee.after_step is not None:
                    trainee.after_step(step, optim.max_steps)
                bar.update(1)
                if step % run.log_every == 0 or step == optim.max_steps:
                    elapsed = time.perf_counter() - t0
                    keys = list(running)
                    means = all_mean([float(np.mean(running[k])) for k in keys] + [float(tokens), samples], world)
                    record = {"step": step, **dict(zip(keys, means[: len(keys)], strict=True))}
                    record |= {"lr": scheduler.get_last_lr()[0], "samples_per_s": means[-1] * world / elapsed}
                    if tokens:
                        record["tokens_per_s"] = means[-2] * world / elapsed
                    record["epoch"] = epoch
                    metrics.append(record)
                    if log is not None:
                        log.write(json.dumps(record) + "\n")
                        log.flush()
                    rate = {"tok_s": f"{record['tokens_per_s']:.0f}"} if tokens else {}
                    bar.set_postfix(loss=f"{record['loss']:.3f}", **rate)
                    running, tokens, samples, t0 = {}, 0, 0, time.perf_counter()
                # every rank must stop at the same step (DDP): stop if any rank was asked to
                stopping = should_stop is not None and all_mean([float(should_stop(step))], world)[0] > 0
                if rank == 0 and (step % run.save_every == 0 or step == optim.max_steps or stopping):
                    training = {
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "step": step,
                        "epoch": epoch,
                        "position": position,
                        "rng": rng_state(),
                        "metrics": metrics,
                    }
                    with atomic_folder(last) as tmp:
                        trainee.save(tmp, step)
                        (tmp / CONFIG).write_text(run.config_yaml)
                        torch.save(training, tmp / TRAINING)
                if step >= optim.max_steps or stopping:
                    break
            else:
                epoch, position = epoch + 1, 0
    finally:
        bar.close()
        if log is not None:
            log.close()
    if metrics and rank == 0:
        plot_loss(metrics, out / "loss.png", run.plot_label, run.plot_parts)
    return {
        "steps": step,
        "loss": metrics[-1]["loss"] if metrics else float("nan"),
        "output_dir": str(out),
        "tokens_per_s": metrics[-1].get("tokens_per_s", 0.0) if metrics else 0.0,
        "samples_per_s": metrics[-1]["samples_per_s"] if metrics else 0.0,
        "rank": rank,
        "world_size": world,
    }
