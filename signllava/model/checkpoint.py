"""Checkpoints hold only the trainable state, written atomically, and load strictly.

Layout of a checkpoint folder::

    model.safetensors   projectors + connector + delimiters (+ LoRA weights when stage 2 is on)
    meta.json           what the weights were made for: LLM, hidden size, streams and dims, connector, step
    config.yaml         the resolved training config
    training.pt         optimizer, scheduler, step and RNG state (only in ``last/``, for resuming)

A checkpoint made for another LLM (hidden size or name), another stream set or another connector is
refused with one line naming the folder and the mismatch, before any weight is touched. Checkpoints
written before connectors existed record none: they are ``mlp``'s.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import torch
from safetensors.torch import save_file

from pose.errors import MESSAGE, InputError, excerpt, quoted
from pose.io import atomic_folder, usual_permissions
from pretrain.runtime import CONFIG, RECOPY, WEIGHTS, check_weights, load_weights

META = "meta.json"
# the embedded default model: trained on synthsign only (signllava/recipes/default.yaml says how)
DEFAULT_CHECKPOINT = Path(__file__).parents[1] / "default_model"  # package data at the top of signllava/


REINSTALL = "the installation is damaged: reinstall signllava (pip install --force-reinstall)"


def default_checkpoint() -> Path:
    if not (DEFAULT_CHECKPOINT / WEIGHTS).is_file():
        raise InputError(DEFAULT_CHECKPOINT, "the embedded default model is missing from this installation")
    return DEFAULT_CHECKPOINT


def weights_fix(folder: str | os.PathLike) -> str:
    """How to get good weights back for a checkpoint folder: the embedded default model is reinstalled."""
    default = Path(folder).resolve() == DEFAULT_CHECKPOINT.resolve()
    return REINSTALL if default else RECOPY


def model_meta(model, poses: dict | None = None) -> dict:
    """What the weights were made for; ``poses``: how the training poses were made (pose.provenance),
    so that translate extracts new videos the same way."""
    return {
        "format": "signllava-checkpoint-1",
        "llm": model.config.llm,
        "hidden_size": int(model.delimiters.shape[-1]),
        "vocab_size": int(model.vocab_size),
        "streams": {name: dataclasses.asdict(s) for name, s in model.config.streams.items()},
        "connector": model.connector.settings(),
        "lora": any("lora_" in k for k in model.trainable_state()),
        "glosses": len(model.config.glosses),
        "poses": poses,
    }


def write_checkpoint(folder: Path, model, step: int = 0, poses: dict | None = None) -> None:
    """Write the trainable weights and ``meta.json`` into ``folder`` (one being written atomically)."""
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.trainable_state().items()}
    _save_weights(state, folder / WEIGHTS)
    meta = model_meta(model, poses) | {"step": step}
    (folder / META).write_text(json.dumps(meta, indent=2) + "\n")


def _save_weights(state: dict, path: Path) -> None:
    """safetensors writes its file owner-only (0600); a checkpoint gets the usual permissions, so that
    others in the group (a lab's shared cluster folder) can read it like the metadata beside it."""
    save_file(state, path)
    usual_permissions(path)


def export_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, half: bool = True) -> Path:
    """A copy of a checkpoint for shipping: weights, metadata and config, no training state;
    ``half``: the weights in float16 (half the size; loading casts them back to the model's dtype)."""
    src = Path(src)
    read_meta(src)
    state = load_weights(src / WEIGHTS, fix=weights_fix(src))
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    with atomic_folder(dst) as tmp:
        _save_weights(state, tmp / WEIGHTS)
        for name in (META, CONFIG):
            if (src / name).is_file():
                (tmp / name).write_bytes((src / name).read_bytes())
    return Path(dst)


def _with_defaults(streams: dict) -> dict:
    """Stream settings with defaults filled in, so checkpoints written before a field existed still match."""
    from .model import StreamConfig

    defaults = dataclasses.asdict(StreamConfig(dim=0))
    return {name: {**defaults, **settings} for name, settings in streams.items()}


def read_meta(folder: str | os.PathLike) -> dict:
    """A checkpoint's metadata; a folder that is no checkpoint, or one whose weight file is damaged (read
    from its header alone, so that it is refused before an LLM or any data loads for it), is one line."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(folder, "checkpoint folder not found")
    if not (folder / META).is_file() or not (folder / WEIGHTS).is_file():
        if (folder / "last" / META).is_file():  # a training run's folder: its checkpoint is last/
            raise InputError(folder, f"a training run's folder, not a checkpoint; give {folder / 'last'}")
        raise InputError(folder, "not a SignLLaVA checkpoint (no meta.json / model.safetensors)")
    check_weights(folder / WEIGHTS, weights_fix(folder))
    try:
        meta = json.loads((folder / META).read_bytes())
    except (ValueError, RecursionError) as err:  # bad JSON, not UTF-8, an integer of too many digits, too deep
        raise InputError(folder / META, f"corrupt checkpoint metadata ({excerpt(err, MESSAGE)})") from None
    problem = _meta_problem(meta)
    if problem is not None:
        raise InputError(folder / META, f"corrupt checkpoint metadata: {problem}")
    return meta


def _meta_problem(meta) -> str | None:
    """What of a checkpoint's metadata the loaders could not read (they compare it with the model's)."""
    if not isinstance(meta, dict):
        return f"a JSON {type(meta).__name__}, not an object"
    streams = meta.get("streams") or {}
    if not isinstance(streams, dict) or not all(isinstance(s, dict) for s in streams.values()):
        return "streams must map each stream's name to its settings"
    connector = meta.get("connector") or {"kind": "mlp"}
    if not isinstance(connector, dict) or not isinstance(connector.get("kind"), str):
        return "connector must be its settings, with its kind"
    if not isinstance(meta.get("poses") or {}, dict):
        return "poses must be the pose extraction's settings"
    return None


def _fresh(key: str) -> bool:
    """Weights a warm start may lack: LoRA adapters, temporal blocks and gloss heads new in the model."""
    return "lora_" in key or ".temporal." in key or key.startswith("gloss_heads.")


def check_compatible(folder: str | os.PathLike, model, warm_start: bool = False) -> dict:
    """Refuse a checkpoint made for another LLM or stream set; return its metadata.

    ``warm_start``: the checkpoint initializes a model that may add LoRA or temporal blocks."""
    meta = read_meta(folder)
    ours = model_meta(model)
    if meta.get("hidden_size") != ours["hidden_size"] or meta.get("vocab_size") != ours["vocab_size"]:
        raise InputError(
            folder,
            f"checkpoint is for LLM {quoted(meta.get('llm'))} (hidden size {meta.get('hidden_size')}, "
            f"vocab {meta.get('vocab_size')}), not for {quoted(ours['llm'])} (hidden size "
            f"{ours['hidden_size']}, vocab {ours['vocab_size']})",
        )
    theirs, mine = _with_defaults(meta.get("streams") or {}), _with_defaults(ours["streams"])
    if warm_start:  # more temporal blocks than the checkpoint is fine: the new ones start as the identity
        theirs = {n: {k: v for k, v in s.items() if k != "temporal"} for n, s in theirs.items()}
        mine = {n: {k: v for k, v in s.items() if k != "temporal"} for n, s in mine.items()}
    if theirs != mine:
        raise InputError(folder, f"checkpoint has streams {meta.get('streams')}, the model has {ours['streams']}")
    connector = meta.get("connector") or {"kind": "mlp"}
    if connector["kind"] != ours["connector"]["kind"]:
        raise InputError(
            folder,
            f"checkpoint was trained with connector {quoted(connector['kind'])}, the model is built with "
            f"{quoted(ours['connector']['kind'])}: set model.connector={connector['kind']} to load it",
        )
    if connector != ours["connector"]:
        raise InputError(folder, f"checkpoint has connector settings {connector}, the model {ours['connector']}")
    if meta.get("lora") and not ours["lora"]:
        raise InputError(folder, "checkpoint has LoRA weights but the model has no LoRA adapter (enable lora)")
    if ours["lora"] and not meta.get("lora") and not warm_start:
        raise InputError(folder, "checkpoint has no LoRA weights; load it as the initialization (init_from) instead")
    return meta


def load_checkpoint(folder: str | os.PathLike, model, warm_start: bool = False) -> dict:
    """Load the trainable weights strictly into ``model``; return the checkpoint's metadata.

    ``warm_start``: initialize a model from a checkpoint (stage 2 from stage 1, or a projector
    with new temporal blocks); LoRA and temporal weights the checkpoint lacks keep their fresh init.
    """
    folder = Path(folder)
    meta = check_compatible(folder, model, warm_start=warm_start)
    state = load_weights(folder / WEIGHTS, fix=weights_fix(folder))
    expected = set(model.trainable_state())
    if warm_start:
        expected = {k for k in expected if k in state or not _fresh(k)}
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise InputError(
            folder, f"checkpoint weights do not match the model (missing {missing[:3]}, unexpected {extra[:3]})"
        )
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    with torch.no_grad():
        for key, value in state.items():
            target = params.get(key, buffers.get(key))
            if target.shape != value.shape:
                raise InputError(
                    folder, f"weight {key} has shape {tuple(value.shape)}, the model {tuple(target.shape)}"
                )
            target.copy_(value.to(target.device, target.dtype))
    return meta
