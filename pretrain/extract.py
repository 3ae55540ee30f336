"""Per-frame features of every clip into the feature store: ``signllava extract-features``.

The ``pose`` stream is the 208-value pose view (no model); an encoder stream (sign2vec, dino, mae)
comes from a pretraining checkpoint. Clips are split round-robin into ``num_shards`` (one per SLURM
array task); each job writes its own store shard, committing every ``clips_per_part`` clips, and
skips clips any job already stored, so a rerun finishes only what is missing. After extraction the
collapse checks are printed: feature spread, and on synthsign the cross-signer sign retrieval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from pose import provenance
from pose.errors import InputError, quoted
from pose.io import output_folder, read_pose

from .data import PretrainData, list_clips
from .encoder_record import record_encoder
from .runtime import pick_device
from .stats import FeatureStats, feature_stats, sign_retrieval
from .store import FeatureStore

IMAGE_STREAMS = ("dino", "mae")  # read video frames, not only poses


@dataclass
class ExtractFeaturesConfig:
    """One extraction job (one shard of the clips)."""

    stream: str = "pose"  # pose (the 208-value view, no model) or an encoder: sign2vec, dino, mae
    checkpoint: str | None = None  # the encoder's pretraining checkpoint folder, e.g. runs/pretrain-dino/last
    data: PretrainData = field(default_factory=PretrainData)
    output: str = "out/features"  # feature store root (the stream is a folder in it)
    shard: int = 0  # this job's shard (SLURM array task)
    num_shards: int = 1
    device: str = "auto"
    clips_per_part: int = 64  # commit this often: a killed job keeps what it committed
    synth: str | None = None  # a synthsign folder: also run the cross-signer sign retrieval probe

    def __post_init__(self):
        if self.stream != "pose" and not self.checkpoint:
            raise InputError(None, f"stream {quoted(self.stream)} needs checkpoint=<its pretraining run>/last")
        if self.num_shards < 1 or not 0 <= self.shard < self.num_shards:
            raise InputError(None, f"shard {self.shard} of {self.num_shards} is invalid")
        if self.clips_per_part < 1:
            raise InputError(None, "clips_per_part must be >= 1")


@dataclass
class FeatureReport:
    stream: str
    done: int
    skipped: int
    frames: int
    seconds: float
    stats: FeatureStats | None = None
    retrieval: tuple[float, int] | None = None  # (top-1 accuracy, queries)

    def summary(self) -> str:
        fps = self.frames / self.seconds if self.seconds else 0.0
        lines = [
            f"{self.stream}: {self.done} clips extracted, {self.skipped} already stored; "
            f"{self.frames} frames in {self.seconds:.1f} s ({fps:.0f} frames/s)"
        ]
        if self.stats is not None:
            lines.append(f"  spread: {self.stats.summary()}")
        if self.retrieval is not None:
            acc, n = self.retrieval
            lines.append(f"  same sign, other signer, top-1 retrieval: {acc:.1%} of {n} sign occurrences")
        return "\n".join(lines)


def _encoder(job: ExtractFeaturesConfig, device: torch.device):
    """``(clip -> (T, D) features, dim)`` for the job's stream."""
    if job.stream == "pose":
        from pose.features import pose_view_208

        return (lambda pose, video: pose_view_208(pose)[0]), 208
    from .build import load_objective

    objective, cfg = load_objective(job.checkpoint, str(device))
    if cfg.objective != job.stream:
        raise InputError(job.checkpoint, f"checkpoint is a {cfg.objective} model, not {job.stream}")

    def encode(pose, video):
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out = objective.features(pose, video)
        return np.asarray(out.float().cpu() if isinstance(out, torch.Tensor) else out, np.float32)

    return encode, int(objective.dim)


def extract_features(job: ExtractFeaturesConfig, progress: bool = True) -> FeatureReport:
    from tqdm import tqdm

    output_folder(job.output)  # a file in the way is said before any clip is read
    device = pick_device(job.device)
    clips = list_clips(job.data, need_video=job.stream in IMAGE_STREAMS)[job.shard :: job.num_shards]
    encode, dim = _encoder(job, device)
    start, frames, done, mine, fps = time.perf_counter(), 0, 0, {}, []
    shard = f"job{job.shard:05d}of{job.num_shards:05d}"
    with FeatureStore.writer(job.output, job.stream, shard, dim=dim, clips_per_part=job.clips_per_part) as writer:
        todo = [c for c in clips if c.name not in writer]
        for clip in tqdm(todo, desc=f"features {job.stream}", unit="clip", disable=not progress):
            pose = read_pose(clip.pose)
            fps.append(float(pose.body.fps))
            features = encode(pose, clip.video)  # (T, D)
            if features.ndim != 2 or features.shape[1] != dim:
                raise InputError(clip.pose, f"{job.stream} features have shape {features.shape}, expected (T, {dim})")
            writer.add(clip.name, features)
            mine[clip.name] = features
            frames += len(features)
            done += 1
    if fps:  # how the poses were made, for the models trained on these features (pose.provenance)
        provenance.write_record(Path(job.output) / job.stream, provenance.record_for(job.data.poses, fps))
    if job.stream != "pose":  # a model trained on these features finds its encoder here (translate)
        record_encoder(job.output, job.stream, job.checkpoint)
    report = FeatureReport(job.stream, done, len(clips) - done, frames, time.perf_counter() - start)
    if mine:
        report.stats = feature_stats(mine)
        if job.synth:
            from pose.synth import load_metadata

            report.retrieval = sign_retrieval(mine, load_metadata(job.synth))
    return report
