"""The optimizer of every stage: one config, one weight-decay rule, AdamW with warmup + cosine."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from pose.errors import InputError, quoted


@dataclass
class OptimConfig:
    """Optimizer and schedule: AdamW, linear warmup, cosine decay (defaults: the encoders' pretraining;
    SignLLaVA's stages override them, see :class:`signllava.model.build.TrainOptim`)."""

    lr: float = 5e-4  # peak learning rate
    weight_decay: float = 0.05  # on weight matrices only (:func:`decay_groups`)
    warmup_ratio: float = 0.05  # of max_steps, linear warmup before the cosine decay
    max_steps: int = 1000  # optimizer steps
    batch_size: int = 8  # samples per micro-batch (per rank)
    grad_accum: int = 1  # micro-batches per optimizer step
    grad_clip: float = 1.0  # max gradient norm (0 = off)
    bf16: bool = True  # autocast to bfloat16 on CUDA (CPU runs stay float32)

    def __post_init__(self):
        checks = {
            "lr": self.lr > 0,
            "max_steps": self.max_steps > 0,
            "batch_size": self.batch_size > 0,
            "grad_accum": self.grad_accum > 0,
            "warmup_ratio": 0 <= self.warmup_ratio < 1,
            "weight_decay": self.weight_decay >= 0,
            "grad_clip": self.grad_clip >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise InputError(None, f"config value optim.{name}={quoted(getattr(self, name))} is invalid")


def decay_groups(module: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW parameter groups, the one weight-decay rule of every stage: weight matrices (2 or more
    dimensions) decay; biases, norms' gains and the parameters the module lists in its
    ``no_weight_decay()`` (e.g. SignLLaVA's delimiter embeddings) do not. Frozen parameters are left out."""
    skip = set(module.no_weight_decay()) if hasattr(module, "no_weight_decay") else set()
    decay, no_decay = [], []
    for name, p in module.named_parameters():
        if p.requires_grad:
            (decay if p.dim() >= 2 and name not in skip else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(module: nn.Module, cfg: OptimConfig):
    """``(AdamW, warmup + cosine schedule)`` over the module's trainable parameters."""
    from transformers import get_cosine_schedule_with_warmup

    optimizer = torch.optim.AdamW(decay_groups(module, cfg.weight_decay), lr=cfg.lr)
    return optimizer, get_cosine_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * cfg.max_steps), cfg.max_steps)
