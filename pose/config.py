"""Typed configuration of the pose stage (validated on construction)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import InputError

BACKEND_CHOICES = ("auto", "decord", "pyav", "opencv")


def _fail(name: str, value, expected: str) -> None:
    raise InputError(None, f"config value {name}={value!r} is invalid: expected {expected}")


@dataclass
class HolisticConfig:
    """MediaPipe Holistic settings. The defaults are pose-format's ``video_to_pose`` defaults."""

    model_complexity: int = 1  # pose landmark model: 0 lite, 1 full, 2 heavy
    refine_face_landmarks: bool = False  # adds 10 iris points (478 face points instead of 468)
    smooth_landmarks: bool = True  # temporal smoothing of body landmarks across frames
    min_detection_confidence: float = 0.5  # person detector threshold
    min_tracking_confidence: float = 0.5  # below it, tracking falls back to detection
    static_image_mode: bool = False  # True: detect on every frame (slower, no tracking)

    def __post_init__(self):
        if self.model_complexity not in (0, 1, 2):
            _fail("holistic.model_complexity", self.model_complexity, "0, 1 or 2")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                _fail(f"holistic.{name}", v, "a number in [0, 1]")

    def mediapipe_kwargs(self) -> dict:
        return {
            "static_image_mode": self.static_image_mode,
            "model_complexity": self.model_complexity,
            "smooth_landmarks": self.smooth_landmarks,
            "refine_face_landmarks": self.refine_face_landmarks,
            "min_detection_confidence": self.min_detection_confidence,
            "min_tracking_confidence": self.min_tracking_confidence,
        }


@dataclass
class VideoConfig:
    """How videos are decoded."""

    backend: str = "auto"  # auto (PyAV, then decord, then OpenCV), pyav, decord or opencv
    target_fps: float | None = None  # resample by nearest frame (e.g. 25); None keeps the source fps

    def __post_init__(self):
        if self.backend not in BACKEND_CHOICES:
            _fail("video.backend", self.backend, "one of " + ", ".join(BACKEND_CHOICES))
        if self.target_fps is not None and (not math.isfinite(self.target_fps) or not 0 < self.target_fps <= 1000):
            _fail("video.target_fps", self.target_fps, "a frame rate in (0, 1000] or null")


@dataclass
class ExtractConfig:
    """Batch pose extraction over a folder, a manifest or single files."""

    holistic: HolisticConfig = field(default_factory=HolisticConfig)
    video: VideoConfig = field(default_factory=VideoConfig)
    workers: int = 1  # worker processes, each with one live MediaPipe graph; 0 = one per CPU core
    shard: int = 0  # this job's shard index (for SLURM arrays)
    num_shards: int = 1  # total shards; videos are split round-robin in sorted order
    recursive: bool = True  # search sub-folders of an input folder
    overwrite: bool = False  # re-extract videos whose .pose already exists

    def __post_init__(self):
        if self.workers < 0:
            _fail("workers", self.workers, "0 (all cores) or a positive number")
        if self.num_shards < 1:
            _fail("num_shards", self.num_shards, "at least 1")
        if not 0 <= self.shard < self.num_shards:
            _fail("shard", self.shard, f"an index in [0, {self.num_shards - 1}]")
