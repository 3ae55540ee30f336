"""Exporting a trained model (or a pretrained encoder) as a folder the Hugging Face Hub serves as it is.

The folder (``signllava export RUN/last OUT/``)::

    model.safetensors    the trainable weights as trained (projectors, connector, delimiters, gloss heads)
    adapter/             the LoRA adapters as a peft adapter folder (stage 2 only): peft loads it on the base LLM
    config.json          our config: what the weights were made for, the training config, the pose extraction
    evaluation.json      the scores of the run's last ``evaluate`` (when there is one), with sacreBLEU's signature
    README.md            the model card: YAML front matter the Hub reads, then data, recipe, extraction, scores,
                         intended use and limits, and how to load it

It is written to a temporary folder and renamed, so a failed export leaves none. :mod:`.hub` loads it back,
from a folder or by repo id.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from omegaconf import OmegaConf

from pose.config_loader import load_config
from pose.errors import InputError
from pose.io import atomic_folder
from pretrain.runtime import CONFIG, WEIGHTS, load_weights

from .card import EVALUATION, Card, evaluation_summary, render_card
from .checkpoint import META, _save_weights, read_meta
from .hub import ADAPTER, ADAPTER_WEIGHTS, CONFIG_JSON, EXPORT_FORMAT, is_lora, read_export_config, state_to_adapter
from .llm import DEFAULT_ALIASES

DEFAULT_LLM_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"  # what the embedded default LLM is on the Hub


def export(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    base_model: str | None = None,
    license: str | None = None,
    datasets: tuple[str, ...] = (),
    report: str | os.PathLike | None = None,
    name: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Export the checkpoint or pretraining checkpoint ``src`` into the new folder ``dst``; see the module doc.

    ``base_model``: the LLM's Hub id for the card (default: the id the checkpoint names, where it is one);
    ``report``: an ``evaluate`` report (default: ``src``'s ``evaluation.json``, else the newest
    ``eval-*.json`` beside ``src`` made from it); ``name``: the card's title (default: ``dst``'s name)."""
    src, dst = Path(src), Path(dst)
    if dst.exists() and any(dst.iterdir()) and not (overwrite or read_export_config(dst) is not None):
        raise InputError(dst, "exists and is not an export: give an empty or new folder (or --overwrite)")
    if dst.exists() and not dst.is_dir():
        raise InputError(dst, "exists as a file; give a folder to export into")
    card = Card(name=name or dst.resolve().name, license=license, datasets=list(datasets))
    if (src / META).is_file() or (src / "last" / META).is_file():
        config, state, adapter_config = _translation_model(src, base_model, card)
        evaluation = evaluation_summary(_find_report(src, report))
    elif (src / CONFIG).is_file() and (src / WEIGHTS).is_file():
        config, state, adapter_config = _encoder(src, card), _weights(src), None
        evaluation = None
    else:
        raise InputError(src, "not a SignLLaVA checkpoint nor a pretraining checkpoint (no meta.json / config.yaml)")
    with atomic_folder(dst) as tmp:
        _save_weights({k: v for k, v in state.items() if not is_lora(k)}, tmp / WEIGHTS)
        if adapter_config is not None:
            adapter_config.save_pretrained(tmp / ADAPTER)
            _save_weights(state_to_adapter(state), tmp / ADAPTER / ADAPTER_WEIGHTS)
        (tmp / CONFIG_JSON).write_text(json.dumps(config, indent=2) + "\n")
        if evaluation is not None:
            (tmp / EVALUATION).write_text(json.dumps(evaluation, indent=2) + "\n")
        (tmp / "README.md").write_text(render_card(card, config, evaluation))
    return dst


def _weights(src: Path) -> dict:
    """The checkpoint's weights as they are (so the export translates exactly as the checkpoint does)."""
    return load_weights(src / WEIGHTS)


def _translation_model(src: Path, base_model: str | None, card: Card):
    from .build import TrainConfig, trained_config

    meta = read_meta(src)  # a run folder is refused here with its last/ named
    cfg: TrainConfig = trained_config(src) if (src / CONFIG).is_file() else TrainConfig()
    llm = meta.get("llm") or cfg.model.llm
    card.base_model = base_model or (DEFAULT_LLM_ID if llm in DEFAULT_ALIASES else _hub_id(llm))
    state = _weights(src)
    if meta.get("lora") != any(is_lora(k) for k in state):
        raise InputError(src / WEIGHTS, "its LoRA weights do not match meta.json's lora flag")
    config = {
        "format": EXPORT_FORMAT,
        "kind": "signllava",
        "base_model": card.base_model,
        "meta": meta,
        "config": OmegaConf.to_container(OmegaConf.structured(cfg)),
    }
    if card.base_model and llm not in DEFAULT_ALIASES and _hub_id(llm) is None:
        # trained on a local copy (a cluster's model folder): elsewhere the LLM is loaded by its Hub id
        config["config"]["model"]["llm"] = card.base_model
    adapter = None
    if meta.get("lora"):
        from peft import LoraConfig

        adapter = LoraConfig(
            r=cfg.lora.r,
            lora_alpha=cfg.lora.alpha,
            lora_dropout=cfg.lora.dropout,
            target_modules=sorted({k.split(".lora_")[0].rsplit(".", 1)[-1] for k in state if is_lora(k)}),
            base_model_name_or_path=card.base_model or llm,
        )
    return config, state, adapter


def _encoder(src: Path, card: Card) -> dict:
    from pretrain.build import PretrainConfig

    cfg = load_config(PretrainConfig, src / CONFIG)
    card.kind = "encoder"
    return {
        "format": EXPORT_FORMAT,
        "kind": "encoder",
        "objective": cfg.objective,
        "config": OmegaConf.to_container(OmegaConf.structured(cfg)),
    }


def _hub_id(name: str) -> str | None:
    """``name`` when it reads as a Hub id (``org/model``), not a local folder."""
    if name.startswith((".", "/", "~")) or Path(name).exists() or name.count("/") != 1:
        return None
    return name


def _find_report(src: Path, report: str | os.PathLike | None) -> dict | None:
    """The evaluate report to put on the card: the one given, the checkpoint's own summary, or the newest
    ``eval-*.json`` beside the checkpoint that was made from it."""
    if report is not None:
        path = Path(report)
        if not path.is_file():
            raise InputError(path, "evaluation report not found")
        return _read_json(path)
    if (src / EVALUATION).is_file():
        return _read_json(src / EVALUATION)
    made_here = []
    for path in src.parent.glob("eval-*.json"):
        found = _read_json(path, quiet=True)
        if found and Path(str(found.get("checkpoint", ""))).resolve() == src.resolve():
            made_here.append((path.stat().st_mtime, found))
    return max(made_here, key=lambda pair: pair[0])[1] if made_here else None


def _read_json(path: Path, quiet: bool = False) -> dict | None:
    try:
        found = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as err:
        if quiet:
            return None
        raise InputError(path, f"not a readable evaluation report ({err})") from None
    if not isinstance(found, dict):
        if quiet:
            return None
        raise InputError(path, "not an evaluation report (not a JSON object)")
    return found
