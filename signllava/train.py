"""Training: stage 1 (projectors only, LLM frozen) and stage 2 (+ LoRA through peft).

One config object (:class:`TrainConfig`) drives a run; the run folder receives the resolved
config, ``metrics.jsonl`` (one line per logged step), ``loss.png`` and the checkpoint ``last/``,
rewritten atomically every ``save_every`` steps with optimizer, scheduler, data position and RNG
state, so a rerun of the same command (or a requeued job) resumes exactly where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from pose import provenance
from pose.errors import InputError
from pose.io import atomic_output, recover_folder
from pretrain.trainer import optimizer_step, plot_loss, rng_state, set_rng_state

from .checkpoint import TRAINING, load_checkpoint, save_checkpoint
from .config import config_yaml
from .data.dataset import SignCollator, SignDataset
from .data.tasks import ContextWindow, TaskBuilder
from .llm import load_llm
from .model import ModelConfig, SignLLaVA
from .sources import DataConfig, build_streams, load_sentences

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class OptimConfig:
    """Optimizer and schedule (defaults: the original stage 1)."""

    lr: float = 2e-3  # peak learning rate (stage 2 with LoRA: 2e-5)
    weight_decay: float = 0.1  # on weight matrices only
    warmup_ratio: float = 0.03  # of max_steps, linear warmup before the cosine decay
    max_steps: int = 1000  # optimizer steps
    batch_size: int = 8  # samples per micro-batch
    grad_accum: int = 1  # micro-batches per optimizer step
    grad_clip: float = 1.0  # max gradient norm (0 = off)
    label_smoothing: float = 0.0
    bf16: bool = True  # autocast to bfloat16 on CUDA (CPU runs stay float32)
    gradient_checkpointing: bool = False  # trade compute for LLM activation memory

    def __post_init__(self):
        checks = {
            "lr": self.lr > 0,
            "max_steps": self.max_steps > 0,
            "batch_size": self.batch_size > 0,
            "grad_accum": self.grad_accum > 0,
            "warmup_ratio": 0 <= self.warmup_ratio < 1,
            "label_smoothing": 0 <= self.label_smoothing < 1,
            "weight_decay": self.weight_decay >= 0,
            "grad_clip": self.grad_clip >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise InputError(None, f"config value optim.{name}={getattr(self, name)!r} is invalid")


@dataclass
class LoraSettings:
    """Stage 2: LoRA on the LLM (peft); start it from a stage-1 checkpoint with ``init_from``."""

    enabled: bool = False
    r: int = 64
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(LORA_TARGETS))


@dataclass
class TrainConfig:
    """A training run."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    lora: LoraSettings = field(default_factory=LoraSettings)
    # warm start from a checkpoint folder (its projectors and delimiters): stage 2 from stage 1, or a
    # longer run / a projector with added temporal blocks from a shorter run; resuming last/ wins
    init_from: str | None = None
    # weight of the gloss CTC loss on the sign tokens (needs a GLOSSES column in the metadata; synthsign
    # has one, How2Sign does not): a direct recognition signal for the projectors; 0 = off
    ctc: float = 0.0
    output_dir: str = "runs/stage1"
    seed: int = 0
    device: str = "auto"  # auto (cuda if available), cpu, cuda, cuda:1 ...
    log_every: int = 10
    save_every: int = 200


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def build_model(cfg: TrainConfig, device: torch.device) -> SignLLaVA:
    llm, tokenizer = load_llm(cfg.model.llm, device)
    return attach(cfg, SignLLaVA(cfg.model, llm, tokenizer))


def attach(cfg: TrainConfig, model: SignLLaVA) -> SignLLaVA:
    """Add LoRA (stage 2) and the stage-1 initialization when the config asks for them."""
    if cfg.lora.enabled:
        from peft import LoraConfig, get_peft_model

        with warnings.catch_warnings():  # peft asks transformers 5 a deprecated question (every load would print it)
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
            model.llm = get_peft_model(
                model.llm,
                LoraConfig(
                    r=cfg.lora.r,
                    lora_alpha=cfg.lora.alpha,
                    lora_dropout=cfg.lora.dropout,
                    target_modules=list(cfg.lora.target_modules),
                ),
            )
    if cfg.init_from:
        load_checkpoint(cfg.init_from, model, warm_start=True)
    if cfg.optim.gradient_checkpointing:
        model.llm.gradient_checkpointing_enable()
        model.llm.enable_input_require_grads() if hasattr(model.llm, "enable_input_require_grads") else None
    return model


def gloss_vocabulary(sentences, given: list[str]) -> list[str]:
    """The CTC gloss vocabulary: ``given`` (a resumed or configured model's) or the training glosses, sorted."""
    found = sorted({g for s in sentences for g in s.glosses})
    if not found:
        raise InputError(None, "ctc > 0 needs sign glosses: the training metadata has no GLOSSES column")
    if given:
        unknown = sorted(set(found) - set(given))
        if unknown:
            raise InputError(None, f"model.glosses lacks training gloss(es) {', '.join(unknown[:5])}")
        return list(given)
    return found


def make_optimizer(model: SignLLaVA, cfg: OptimConfig):
    from transformers import get_cosine_schedule_with_warmup

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.dim() >= 2 and "delimiters" not in name else no_decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.999),
    )
    warmup = int(cfg.warmup_ratio * cfg.max_steps)
    return optimizer, get_cosine_schedule_with_warmup(optimizer, warmup, cfg.max_steps)


def _batches(dataset: SignDataset, cfg: TrainConfig, epoch: int, skip: int, rank: int = 0, world: int = 1):
    """Batches of one epoch in a seeded order (this rank's share), skipping the first ``skip``."""
    from torch.utils.data.distributed import DistributedSampler

    dataset.set_epoch(epoch)
    sampler = DistributedSampler(
        dataset, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed * 100_003, drop_last=False
    )
    sampler.set_epoch(epoch)
    loader = DataLoader(
        dataset,
        batch_size=cfg.optim.batch_size,
        sampler=sampler,
        num_workers=cfg.data.num_workers,
        collate_fn=SignCollator(),
        drop_last=False,
    )
    for i, batch in enumerate(loader):
        if i >= skip:
            yield i, batch


def distributed_setup(device_name: str) -> tuple[int, int, torch.device]:
    """``(rank, world size, device)``; joins the process group when launched with WORLD_SIZE > 1
    (torchrun, or submitit's TorchDistributedEnvironment().export() on SLURM): NCCL on GPUs,
    gloo on CPUs. Each rank takes the GPU of its LOCAL_RANK."""
    import os

    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = pick_device(device_name)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return (dist.get_rank() if world > 1 else 0), world, device


def _all_mean(values: list[float], world: int) -> list[float]:
    if world == 1:
        return values
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return (t / world).tolist()


def train(cfg: TrainConfig, progress: bool = True, should_stop=None) -> dict:
    """Run (or resume) training; returns a summary: steps, final loss, tokens/s, run folder.

    Under torch.distributed (WORLD_SIZE > 1) every rank trains on its share of each batch order and
    DDP averages the gradients of the trainable parameters; rank 0 writes logs and checkpoints.
    ``should_stop(step)`` is asked after every optimizer step; when it returns True the run saves
    ``last/`` and returns early (a preemption or time-limit handler), and the next call resumes.
    """
    from torch.nn.parallel import DistributedDataParallel
    from tqdm import tqdm

    rank, world, device = distributed_setup(cfg.device)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    sentences = load_sentences(cfg.data, cfg.data.train_split)
    if not sentences:
        raise InputError(None, f"no sentences in split {cfg.data.train_split!r} of {cfg.data.metadata}")
    window = cfg.data.context if cfg.data.use_context else ContextWindow(0, 0)
    builder = TaskBuilder(
        sentences, weights=cfg.data.tasks, window=window, seed=cfg.seed, paraphrase_rate=cfg.data.paraphrase_rate
    )
    sources = build_streams(cfg.data, sentences, cfg.model)
    dataset = SignDataset(sentences, sources, builder)
    if cfg.ctc > 0:
        cfg.model.glosses = gloss_vocabulary(sentences, cfg.model.glosses)
    model = build_model(cfg, device)
    model.pose_record = provenance.merged(s.poses for s in sources.values())  # translate extracts the same way
    optimizer, scheduler = make_optimizer(model, cfg.optim)
    step, epoch, position, metrics = 0, 0, 0, []
    last = recover_folder(out / "last")  # a kill mid-save leaves the previous last/ parked beside it
    if (last / TRAINING).is_file():  # resume exactly
        load_checkpoint(last, model)
        state = torch.load(last / TRAINING, weights_only=False)
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
        (out / "config.yaml").write_text(config_yaml(cfg))
    use_bf16 = cfg.optim.bf16 and device.type == "cuda"
    model.train()
    model.llm.train(cfg.lora.enabled)  # LoRA dropout needs train mode; a frozen LLM stays in eval
    # DDP sees only the trainable parameters (the frozen LLM has none that need syncing)
    step_model = (
        DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        if world > 1
        else model
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    bar = tqdm(total=cfg.optim.max_steps, initial=step, desc="train", unit="step", disable=not progress or rank > 0)
    tokens, t0, micro, running, running_ctc = 0, time.perf_counter(), 0, [], []
    log = open(out / "metrics.jsonl", "a") if rank == 0 else None
    stopping = False
    try:
        while step < cfg.optim.max_steps and not stopping:
            for i, batch in _batches(dataset, cfg, epoch, position, rank, world):
                micro += 1
                position = i + 1
                syncing = micro % cfg.optim.grad_accum == 0
                sync = contextlib.nullcontext() if syncing or world == 1 else step_model.no_sync()
                with sync, torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    loss = step_model(
                        batch["tasks"],
                        batch["streams"],
                        batch["stream_mask"],
                        label_smoothing=cfg.optim.label_smoothing,
                        glosses=batch["glosses"],
                        ctc_weight=cfg.ctc,
                    )
                    (loss / cfg.optim.grad_accum).backward()
                running.append(loss.item())
                if "ctc" in model.last_losses:
                    running_ctc.append(model.last_losses["ctc"])
                tokens += model.last_tokens
                if not syncing:
                    continue
                optimizer_step(trainable, optimizer, scheduler, cfg.optim.grad_clip)
                step += 1
                bar.update(1)
                if step % cfg.log_every == 0 or step == cfg.optim.max_steps:
                    elapsed = time.perf_counter() - t0
                    mean_loss, all_tokens = _all_mean([float(np.mean(running)), float(tokens)], world)
                    record = {
                        "step": step,
                        "loss": mean_loss,
                        "lr": scheduler.get_last_lr()[0],
                        "tokens_per_s": all_tokens * world / elapsed if elapsed else 0.0,
                        "epoch": epoch,
                    }
                    if running_ctc:
                        record["ctc"] = _all_mean([float(np.mean(running_ctc))], world)[0]
                    metrics.append(record)
                    if log is not None:
                        log.write(json.dumps(record) + "\n")
                        log.flush()
                    bar.set_postfix(loss=f"{record['loss']:.3f}", tok_s=f"{record['tokens_per_s']:.0f}")
                    running, running_ctc, tokens, t0 = [], [], 0, time.perf_counter()
                # every rank must stop at the same step (DDP): stop if any rank was asked to
                stopping = should_stop is not None and _all_mean([float(should_stop(step))], world)[0] > 0
                if rank == 0 and (step % cfg.save_every == 0 or step == cfg.optim.max_steps or stopping):
                    save_checkpoint(
                        last,
                        model,
                        config_yaml(cfg),
                        step,
                        {
                            "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(),
                            "step": step,
                            "epoch": epoch,
                            "position": position,
                            "rng": rng_state(),
                            "metrics": metrics,
                        },
                    )
                if step >= cfg.optim.max_steps or stopping:
                    break
            else:
                epoch, position = epoch + 1, 0
    finally:
        bar.close()
        if log is not None:
            log.close()
    if metrics and rank == 0:
        plot_loss(metrics, out / "loss.png", "train loss")
    return {
        "steps": step,
        "loss": metrics[-1]["loss"] if metrics else float("nan"),
        "output_dir": str(out),
        "tokens_per_s": metrics[-1]["tokens_per_s"] if metrics else 0.0,
        "rank": rank,
        "world_size": world,
    }
