"""The stage registry: one table of every stage that runs as a job, from which ``submit``, ``jobs``,
``show-config`` and the CLI's stage options are derived.

A stage names its config dataclass (the same one its own command uses), the picklable job that
runs it (:mod:`signllava.cluster.stage_jobs`), whether it is a job array over shards, where its run folder
is, what to check before anything is queued, the overrides it always applies (``pretrain-dino``:
``objective=dino``) and its named variants (``train`` stage 2: LoRA from a stage-1 checkpoint, the
same for ``signllava train --stage 2`` and ``signllava submit train --stage 2``). A new stage is one
:func:`register` call; names are unique.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pose.config import ExtractConfig
from pose.config_loader import load_config
from pose.errors import InputError, quoted
from pretrain.build import PretrainConfig
from pretrain.extract import ExtractFeaturesConfig

from ..evaluate import EvalConfig, load_eval_config, report_path
from ..model.build import TrainConfig
from ..model.connectors import connector_lines
from ..model.hub import resolve_checkpoint
from .stage_jobs import (
    EvaluateJob,
    ExtractFeaturesJob,
    ExtractPosesJob,
    ImportKeypointsJob,
    PretrainJob,
    TrainJob,
)


@dataclass
class ExtractPosesConfig:
    """extract-poses as a job array: the input list split into the profile's ``array_size`` shards."""

    inputs: list[str] = field(default_factory=list)  # videos, folders of videos, or manifests
    output: str = "out/poses"
    extract: ExtractConfig = field(default_factory=ExtractConfig)


@dataclass
class ImportKeypointsConfig:
    """import-keypoints as a job array: the original's keypoint JSON files split into the profile's shards."""

    inputs: list[str] = field(default_factory=list)  # keypoint .json files, folders of them, or lists (.txt)
    output: str = "out/poses"
    fps: float | None = None  # the clips' frame rate; default: their file or folder name says it
    size: str | None = None  # WIDTHxHEIGHT of the videos; default: the extent of the points
    overwrite: bool = False


@dataclass(frozen=True)
class Variant:
    """A named preset of a stage (``--stage 2``): overrides applied before the user's own."""

    overrides: tuple[str, ...]
    requires: str | None = None  # a config field the variant cannot run without
    missing: str = ""  # the one-line error when that field is empty


def _output(cfg) -> Path:
    return Path(cfg.output)


def _output_dir(cfg) -> Path:
    return Path(cfg.output_dir)


def _beside_checkpoint(cfg) -> Path:
    return report_path(cfg).parent


def _check_extract_poses(cfg: ExtractPosesConfig) -> None:
    if not cfg.inputs:
        raise InputError(None, "extract-poses needs inputs: --set 'inputs=[/data/videos]' (folders or manifests)")
    for path in map(Path, cfg.inputs):
        if not path.exists():
            raise InputError(path, "input (video, folder or manifest) not found")


def _check_import_keypoints(cfg: ImportKeypointsConfig) -> None:
    """Every file's frame rate known, no two writing one output, the size readable: said before anything is
    queued (the import's own plan, on the submitting machine)."""
    from pose.keypoints_batch import plan_import
    from pose.keypoints_json import parse_size

    if not cfg.inputs:
        raise InputError(None, "import-keypoints needs inputs: --set 'inputs=[/data/keypoints]' (files or folders)")
    if cfg.size is not None:
        parse_size(cfg.size)
    if not plan_import(cfg.inputs, cfg.output, cfg.fps):
        raise InputError(Path(cfg.inputs[0]), "no keypoint .json files here (nor below)")


def _check_poses_and_checkpoint(cfg) -> None:
    if not Path(cfg.data.poses).is_dir():
        raise InputError(Path(cfg.data.poses), "pose folder not found (data.poses)")
    if getattr(cfg, "checkpoint", None) and not Path(cfg.checkpoint).is_dir():
        raise InputError(Path(cfg.checkpoint), "checkpoint folder not found")  # an encoder's pretraining run


def _check_metadata(cfg) -> None:
    for path in map(Path, cfg.data.metadata if cfg.data else []):
        if not path.exists():
            raise InputError(path, "metadata file (manifest) not found")


def _check_evaluate(cfg: EvalConfig) -> None:
    _check_metadata(cfg)
    # a repo id is fetched here, on the submitting machine (compute nodes often reach no network), into the
    # cache the job then reads
    if not resolve_checkpoint(cfg.checkpoint).is_dir():
        raise InputError(Path(cfg.checkpoint), "checkpoint folder not found")


def _connector_notes() -> list[str]:
    return ["model.connector: how the streams reach the LLM, one of", *(f"  {line}" for line in connector_lines())]


def _pose_array(cfg: ExtractPosesConfig, shards: int, max_requeues: int) -> ExtractPosesJob:
    extract = dataclasses.replace(cfg.extract, num_shards=shards, shard=0)
    return ExtractPosesJob(list(cfg.inputs), cfg.output, extract, max_requeues)


def _keypoint_array(cfg: ImportKeypointsConfig, shards: int, max_requeues: int) -> ImportKeypointsJob:
    return ImportKeypointsJob(cfg, shards, max_requeues)


def _feature_array(cfg: ExtractFeaturesConfig, shards: int, max_requeues: int) -> ExtractFeaturesJob:
    return ExtractFeaturesJob(dataclasses.replace(cfg, num_shards=shards, shard=0), max_requeues)


def _single(job: type) -> Callable[[Any, int, int], Any]:
    return lambda cfg, shards, max_requeues: job(cfg, max_requeues)


@dataclass(frozen=True)
class Stage:
    """One stage that runs as SLURM job(s)."""

    name: str
    schema: type  # its config dataclass
    help: str
    job: Callable[[Any, int, int], Any]  # (config, shards, max_requeues) -> the picklable job
    run_folder: Callable[[Any], Path]  # where its outputs, logs and job records go
    array: bool = False  # one job per shard (called with the shard index) instead of one multi-task job
    check: Callable[[Any], None] | None = None  # refuse what would fail on the cluster anyway
    overrides: tuple[str, ...] = ()  # applied before the user's, e.g. objective=dino
    variants: Mapping[str, Variant] = field(default_factory=dict)
    # how its config is read, when not by load_config(schema, ...): evaluate starts from the checkpoint's data
    load: Callable[[str | os.PathLike | None, list[str]], Any] | None = None
    notes: Callable[[], list[str]] | None = None  # lines show-config prints after the config, as YAML comments

    def config(self, path: str | os.PathLike | None, overrides: Sequence[str], variant: str | None = None):
        """The stage's validated config: defaults, its overrides, the variant's, ``path``, ``overrides``."""
        chosen = self.variant(variant)
        merged = [*self.overrides, *(chosen.overrides if chosen else ()), *overrides]
        cfg = self.load(path, merged) if self.load is not None else load_config(self.schema, path, merged)
        if chosen is not None and chosen.requires and not getattr(cfg, chosen.requires):
            raise InputError(None, chosen.missing)
        return cfg

    def variant(self, name: str | None) -> Variant | None:
        if name is None or (name in ("", "1") and name not in self.variants):
            return None
        if name not in self.variants:
            choices = ", ".join(["1", *self.variants]) if self.variants else "none"
            raise InputError(None, f"{self.name} has no variant (--stage) {quoted(name)}: choose from {choices}")
        return self.variants[name]


STAGES: dict[str, Stage] = {}


def register(stage: Stage) -> Stage:
    """Add a stage to the registry; a malformed or taken name is refused."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", stage.name):
        raise ValueError(f"stage name {stage.name!r} must be lowercase letters, digits and '-'")
    if stage.name in STAGES:
        raise ValueError(f"stage {stage.name!r} is already registered")
    STAGES[stage.name] = stage
    return stage


def get_stage(name: str) -> Stage:
    if name not in STAGES:
        raise InputError(None, f"unknown stage {quoted(name)}: choose from {', '.join(STAGES)}")
    return STAGES[name]


register(
    Stage(
        "extract-poses",
        ExtractPosesConfig,
        "MediaPipe poses for every video (job array over shards)",
        _pose_array,
        _output,
        array=True,
        check=_check_extract_poses,
    )
)
register(
    Stage(
        "import-keypoints",
        ImportKeypointsConfig,
        "the original SignLLaVA's keypoint JSON into .pose files (job array over shards)",
        _keypoint_array,
        _output,
        array=True,
        check=_check_import_keypoints,
    )
)
for _objective, _help in (
    ("sign2vec", "Sign2Vec (wav2vec 2.0 on pose sequences)"),
    ("dino", "DINO on face and hand crops"),
    ("mae", "MAE on the signer crop"),
):
    register(
        Stage(
            f"pretrain-{_objective}",
            PretrainConfig,
            f"{_help}; DDP over tasks_per_node x nodes",
            _single(PretrainJob),
            _output_dir,
            check=_check_poses_and_checkpoint,
            overrides=(f"objective={_objective}",),
        )
    )
register(
    Stage(
        "extract-features",
        ExtractFeaturesConfig,
        "per-frame features into the feature store (array over shards)",
        _feature_array,
        _output,
        array=True,
        check=_check_poses_and_checkpoint,
    )
)
register(
    Stage(
        "train",
        TrainConfig,
        "SignLLaVA stage 1 (projectors) or --stage 2 (+ LoRA); DDP over tasks_per_node x nodes",
        _single(TrainJob),
        _output_dir,
        check=_check_metadata,
        notes=_connector_notes,
        variants={
            "2": Variant(
                ("lora.enabled=true", "optim.lr=2e-5"),
                requires="init_from",
                missing="stage 2 starts from a stage-1 checkpoint: give --init-from RUN/last",
            )
        },
    )
)
register(
    Stage(
        "evaluate",
        EvalConfig,
        "translate a split, score it (BLEU, chrF, ROUGE, QA)",
        _single(EvaluateJob),
        _beside_checkpoint,
        check=_check_evaluate,
        load=load_eval_config,
    )
)
