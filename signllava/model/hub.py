"""Loading a shared model by Hugging Face repo id (``user/name`` or ``user/name@revision``), or from an
exported folder (:mod:`signllava.model.export`).

Wherever a checkpoint or an encoder checkpoint is accepted (``--checkpoint``, ``evaluate``, ``--init-from``,
``--encoder``, ``Translator.load``, the notebook), :func:`resolve_checkpoint` / :func:`resolve_encoder` turn
the reference into a folder in our own layout: a local checkpoint as it is; a repo id through
``huggingface_hub`` — the local Hugging Face cache first (so ``HF_HUB_OFFLINE=1`` works), else a download
where the Hub is reachable; an export (a repo's snapshot, or a local folder) rebuilt once into our layout
under the cache folder (``$SIGNLLAVA_CACHE/hub``), keyed by its contents. A reference that is neither is one
line saying which repo or folder and how to get it there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import yaml
from safetensors.torch import save_file

from pose.errors import MESSAGE, InputError, excerpt
from pose.io import atomic_folder, file_sha256
from pretrain.runtime import CONFIG, WEIGHTS, load_weights

from .checkpoint import META
from .llm import cache_dir

EXPORT_FORMAT = "signllava-export-1"
REFETCH = "export it again, or download the repo again (hf download USER/NAME --force-download)"
CONFIG_JSON, ADAPTER, ADAPTER_WEIGHTS = "config.json", "adapter", "adapter_model.safetensors"
# `user/name` or `user/name@revision` (a branch, tag or commit): the Hub's own name rules
REPO_REF = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<revision>[\w./-]+))?$")


def looks_like_repo(ref: str | os.PathLike) -> bool:
    """Whether ``ref`` is meant as a repo id: it is no local path and has the shape ``user/name[@rev]``."""
    text = str(ref)
    return not Path(text).exists() and not text.startswith((".", "/", "~")) and REPO_REF.match(text) is not None


def snapshot(ref: str) -> Path:
    """The local folder of repo ``user/name[@revision]``: the Hugging Face cache's snapshot when it is there,
    else downloaded (unless ``HF_HUB_OFFLINE`` is set). One line naming the repo when it cannot be had."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    match = REPO_REF.match(ref)
    if match is None:
        raise InputError(ref, "not a Hugging Face repo id (user/name or user/name@revision) nor a local folder")
    repo, revision = match["repo"], match["revision"]
    where = f"{repo}@{revision}" if revision else repo
    get = f"hf download {repo}" + (f" --revision {revision}" if revision else "")
    try:
        try:
            return Path(snapshot_download(repo, revision=revision, local_files_only=True))
        except LocalEntryNotFoundError:
            if _offline():
                raise
            return Path(snapshot_download(repo, revision=revision))
    except HFValidationError as err:
        raise InputError(ref, f"not a valid Hugging Face repo id ({str(err).splitlines()[0]})") from None
    except RevisionNotFoundError:
        raise InputError(ref, f"repo {repo} has no revision {revision!r}") from None
    except RepositoryNotFoundError:
        raise InputError(ref, "no such repo on the Hugging Face Hub (or it is private: `hf auth login`)") from None
    except LocalEntryNotFoundError:
        why = "HF_HUB_OFFLINE is set" if _offline() else "the Hub cannot be reached"
        raise InputError(
            ref,
            f"no local folder of that name, and repo {where} is not in the Hugging Face cache "
            f"({_hub_cache()}) while {why}: run `{get}` where the Hub is reachable (same HF_HOME), or give a folder",
        ) from None
    except OSError as err:  # network errors the client does not wrap
        raise InputError(ref, f"repo {where} could not be fetched ({str(err).splitlines()[0][:200]})") from None


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _hub_cache() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def is_export(folder: Path) -> bool:
    """Whether ``folder`` holds an export (its ``config.json`` says so)."""
    return read_export_config(folder) is not None


def read_export_config(folder: Path) -> dict | None:
    """An export's ``config.json``, or None where the folder holds none."""
    path = Path(folder) / CONFIG_JSON
    if not path.is_file():
        return None
    try:
        config = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as err:  # bad JSON, not UTF-8, an integer of too many digits, too deep
        raise InputError(path, f"not a readable config.json ({excerpt(err, MESSAGE)})") from None
    if not isinstance(config, dict) or config.get("format") != EXPORT_FORMAT:
        return None
    # what materialize rebuilds our layout from: the training config, and a translation model's metadata
    wanted = ("config", "meta") if config.get("kind") == "signllava" else ("config",)
    missing = [key for key in wanted if not isinstance(config.get(key), dict)]
    if missing:
        raise InputError(path, f"an export's config.json without its {' and '.join(missing)} (a JSON object each)")
    return config


def resolve_checkpoint(ref: str | os.PathLike) -> Path:
    """A SignLLaVA checkpoint folder in our layout for ``ref``: a folder, an exported folder or a repo id."""
    return _resolve(ref, "signllava")


def resolve_encoder(ref: str | os.PathLike) -> Path:
    """A pretraining checkpoint folder (``pretrain.build.load_objective`` reads it) for ``ref``."""
    return _resolve(ref, "encoder")


def _resolve(ref: str | os.PathLike, kind: str) -> Path:
    folder = snapshot(str(ref)) if looks_like_repo(ref) else Path(ref)
    config = read_export_config(folder) if folder.is_dir() else None
    if config is None:
        if looks_like_repo(ref):
            raise InputError(ref, f"the repo is not a SignLLaVA export (no config.json of format {EXPORT_FORMAT})")
        return folder  # our own layout: its loader says what is wrong with it, if anything
    if config.get("kind") != kind:
        names = {"signllava": "a translation model", "encoder": "a pretrained encoder"}
        raise InputError(ref, f"an export of {names.get(config.get('kind'), 'something else')}, not {names[kind]}")
    return materialize(folder, config)


def materialize(folder: Path, config: dict) -> Path:
    """The export in ``folder`` as a checkpoint folder in our layout, made once under the cache folder
    (keyed by the export's config and weights, so another revision gets its own)."""
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise InputError(folder, "an export without its model.safetensors")
    key = hashlib.sha256((folder / CONFIG_JSON).read_bytes() + file_sha256(weights).encode())
    target = cache_dir() / "hub" / key.hexdigest()[:24]
    if (target / WEIGHTS).is_file():
        return target
    state = load_weights(weights, fix=REFETCH)
    if (folder / ADAPTER).is_dir():
        state |= adapter_to_state(load_weights(folder / ADAPTER / ADAPTER_WEIGHTS, fix=REFETCH))
    with atomic_folder(target, keep_existing=True) as tmp:
        save_file(state, tmp / WEIGHTS)
        (tmp / CONFIG).write_text(yaml.safe_dump(config["config"], sort_keys=False))
        if config["kind"] == "signllava":
            (tmp / META).write_text(json.dumps(config["meta"], indent=2) + "\n")
    return target


# our trainable state names LoRA weights as the model holds them (`llm.base_model.model.X.lora_A.default.weight`);
# a peft adapter file drops the `llm.` prefix and the adapter's name (`base_model.model.X.lora_A.weight`)
_OURS = re.compile(r"^llm\.(.*\.lora_[AB])\.default\.(weight|bias)$")
_PEFT = re.compile(r"^(.*\.lora_[AB])\.(weight|bias)$")


def is_lora(key: str) -> bool:
    return _OURS.match(key) is not None


def state_to_adapter(state: dict) -> dict:
    """Our LoRA weights, named as peft's ``adapter_model.safetensors`` names them."""
    return {_OURS.sub(r"\1.\2", k): v for k, v in state.items() if is_lora(k)}


def adapter_to_state(adapter: dict) -> dict:
    """A peft adapter file's weights, named as our trainable state names them."""
    out = {}
    for key, value in adapter.items():
        match = _PEFT.match(key)
        if match is None:
            raise InputError(None, f"adapter weight {key!r} is not a LoRA A/B matrix")
        out[f"llm.{match[1]}.default.{match[2]}"] = value
    return out
