"""Typed configuration of the pose stage (validated on construction)."""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, quoted

BACKEND_CHOICES = ("auto", "decord", "pyav", "opencv")
POSE_BACKENDS = ("auto", "legacy", "tasks")
LEGACY_RELEASE = "0.10.21"  # the newest mediapipe whose wheel ships the legacy Holistic graph and its models
# what each pose backend needs inside the installed mediapipe package
_BACKEND_FILES = {
    "legacy": ("python/solutions/holistic.py", "modules/holistic_landmark/holistic_landmark_cpu.binarypb"),
    "tasks": ("tasks/python/vision/holistic_landmarker.py",),
}


def _fail(name: str, value, expected: str) -> None:
    raise InputError(None, f"config value {name}={quoted(value)} is invalid: expected {expected}")


def mediapipe_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mediapipe")
    except PackageNotFoundError:
        return None


def backend_installed(backend: str) -> bool:
    """Whether the installed mediapipe has this pose backend (looked up without importing mediapipe)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return False
    root = Path(spec.submodule_search_locations[0])
    return all((root / f).is_file() for f in _BACKEND_FILES[backend])


def backend_problem(backend: str) -> str | None:
    """Why ``backend`` cannot run here, in one line, or None when it can."""
    if backend_installed(backend):
        return None
    installed = mediapipe_version()
    if backend == "legacy":
        have = f"mediapipe {installed} is installed, which has only the Tasks API" if installed else "no mediapipe"
        return (
            f"holistic.backend=legacy needs mediapipe=={LEGACY_RELEASE} (Python 3.10-3.12), but {have}: "
            "use holistic.backend=tasks (--pose-backend tasks)"
        )
    have = f"mediapipe {installed} has no HolisticLandmarker" if installed else "mediapipe is not installed"
    return f"holistic.backend=tasks needs mediapipe's Tasks HolisticLandmarker ({LEGACY_RELEASE} or later), but {have}"


def default_backend() -> str:
    """The pose backend ``auto`` means here: the legacy graph where it is installed (its landmarks equal
    pose-format's), else the Tasks HolisticLandmarker (mediapipe releases that run on Python 3.13+)."""
    return "legacy" if backend_installed("legacy") or not backend_installed("tasks") else "tasks"


@dataclass
class HolisticConfig:
    """MediaPipe Holistic settings. The defaults are pose-format's ``video_to_pose`` defaults."""

    # legacy: mediapipe 0.10.21's Holistic graph (landmarks equal pose-format's); tasks: the Tasks
    # HolisticLandmarker (any mediapipe from 0.10.21 on, e.g. on Python 3.13); auto: legacy where installed
    backend: str = "auto"
    # tasks: a holistic_landmarker.task of one's own; default $SIGNLLAVA_HOLISTIC_TASK, else the bundle
    # built into the cache from mediapipe 0.10.21's models (python -m pose.task_bundle)
    task_bundle: str | None = None
    task_bundle_sha256: str | None = None  # tasks: the bundle's sha256, recorded at extraction; another warns
    model_complexity: int = 1  # pose landmark model: 0 lite, 1 full, 2 heavy
    refine_face_landmarks: bool = False  # adds 10 iris points (478 face points instead of 468)
    smooth_landmarks: bool = True  # temporal smoothing of body landmarks across frames
    min_detection_confidence: float = 0.5  # person detector threshold
    min_tracking_confidence: float = 0.5  # below it, tracking falls back to detection
    static_image_mode: bool = False  # True: detect on every frame (slower, no tracking)

    def __post_init__(self):
        if self.backend not in POSE_BACKENDS:
            _fail("holistic.backend", self.backend, "one of " + ", ".join(POSE_BACKENDS))
        if self.backend == "auto":  # resolved at once, so saved configs and records name the backend used
            self.backend = default_backend()
        if self.model_complexity not in (0, 1, 2):
            _fail("holistic.model_complexity", self.model_complexity, "0, 1 or 2")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                _fail(f"holistic.{name}", v, "a number in [0, 1]")
        if self.backend == "tasks":
            # what the Tasks graph cannot do: it holds one pose model, 468 face points (no iris model),
            # always smooths, and has no per-frame detection mode in its video stream
            for name, value, expected in (
                ("model_complexity", 1, "1 with holistic.backend=tasks (its bundle holds the full pose model)"),
                ("refine_face_landmarks", False, "false with holistic.backend=tasks (no iris points)"),
                ("smooth_landmarks", True, "true with holistic.backend=tasks (it always smooths)"),
                ("static_image_mode", False, "false with holistic.backend=tasks (it tracks a video)"),
            ):
                if getattr(self, name) != value:
                    _fail(f"holistic.{name}", getattr(self, name), expected)

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
    frames_fps: float = 25.0  # the rate of a video given as a folder of frames (PHOENIX-2014T, CSL-Daily: 25)

    def __post_init__(self):
        if self.backend not in BACKEND_CHOICES:
            _fail("video.backend", self.backend, "one of " + ", ".join(BACKEND_CHOICES))
        if not math.isfinite(self.frames_fps) or not 0 < self.frames_fps <= 1000:
            _fail("video.frames_fps", self.frames_fps, "a frame rate in (0, 1000]")
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
