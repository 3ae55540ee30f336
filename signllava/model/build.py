"""Building and loading a SignLLaVA model: the run config a checkpoint records, and the functions that
turn it into a model.

:class:`TrainConfig` is what ``train`` runs and what a checkpoint's ``config.yaml`` holds (model,
data, optimizer, LoRA, the gloss loss); :func:`build_model` makes a fresh model for it,
:func:`attach` adds LoRA and a warm start, and :func:`load_trained` rebuilds a trained folder.
Training, evaluation and inference import this module; it imports none of them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from pose.config_loader import load_config
from pose.errors import InputError, quoted
from pretrain.optim import OptimConfig
from pretrain.runtime import CONFIG, pick_device

from ..data.streams import DataConfig
from .checkpoint import load_checkpoint, read_meta
from .hub import resolve_checkpoint
from .llm import half_weight_linears, load_llm
from .model import ModelConfig, SignLLaVA

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class TrainOptim(OptimConfig):
    """The shared optimizer config (:class:`pretrain.optim.OptimConfig`) with the original stage 1's
    defaults, plus the two settings only the LLM stages have."""

    lr: float = 2e-3  # peak learning rate (stage 2 with LoRA: 2e-5)
    weight_decay: float = 0.1  # on weight matrices only
    warmup_ratio: float = 0.03  # of max_steps, linear warmup before the cosine decay
    label_smoothing: float = 0.0  # of the answer tokens' cross-entropy
    gradient_checkpointing: bool = False  # trade compute for LLM activation memory

    def __post_init__(self):
        super().__post_init__()
        if not 0 <= self.label_smoothing < 1:
            raise InputError(None, f"config value optim.label_smoothing={quoted(self.label_smoothing)} is invalid")


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
    """A training run, and what its checkpoints record of how the model was built."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: TrainOptim = field(default_factory=TrainOptim)
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


def build_model(cfg: TrainConfig, device: torch.device) -> SignLLaVA:
    """A fresh model for ``cfg`` on ``device``: the LLM loaded and frozen, LoRA and the warm start attached."""
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
        load_checkpoint(resolve_checkpoint(cfg.init_from), model, warm_start=True)
    if cfg.optim.gradient_checkpointing:
        model.llm.gradient_checkpointing_enable()
        model.llm.enable_input_require_grads() if hasattr(model.llm, "enable_input_require_grads") else None
    return model


def trained_config(checkpoint: str | Path) -> TrainConfig:
    """The config a checkpoint was trained with (validated; fields added since get their defaults)."""
    path = Path(checkpoint) / CONFIG
    return load_config(TrainConfig, path) if path.is_file() else TrainConfig()


def load_trained(
    checkpoint: str | Path,
    device: str = "auto",
    llm: str | None = None,
    merge: bool = False,
    half_weights: bool = False,
) -> tuple[SignLLaVA, TrainConfig]:
    """``(model, train_config)`` rebuilt from a checkpoint folder (or an export, or a Hugging Face repo id:
    :func:`~signllava.model.hub.resolve_checkpoint`), weights loaded strictly.

    ``llm``: load the LLM from here instead of the id the checkpoint names (a local copy of the
    same model); a different model is refused by the checkpoint's size check. ``merge``: for
    inference only, fold LoRA adapters into the LLM's weights (the same outputs, no LoRA cost per
    call). ``half_weights``: for inference only, on a CPU, keep the LLM's linear weights in float16
    (:func:`~signllava.model.llm.half_weight_linears`: ~1.75x faster decoding)."""
    folder = resolve_checkpoint(checkpoint)
    read_meta(folder)  # a damaged weight file too, before the LLM loads
    cfg = trained_config(folder)
    cfg.init_from = None  # the checkpoint itself holds everything
    if llm is not None:
        cfg.model.llm = llm
    llm, tokenizer = load_llm(cfg.model.llm, pick_device(device))
    model = attach(cfg, SignLLaVA(cfg.model, llm, tokenizer))
    load_checkpoint(folder, model)
    if merge and cfg.lora.enabled:
        model.llm = model.llm.merge_and_unload()
    if half_weights and model.device.type == "cpu":
        half_weight_linears(model.llm)
    model.eval()
    return model, cfg
