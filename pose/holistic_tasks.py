"""MediaPipe's Tasks ``HolisticLandmarker`` behind the interface of the legacy Holistic graph.

:class:`pose.holistic.HolisticExtractor` drives a graph with ``reset()``, ``process(rgb_frame)`` and
``close()``, whose results have ``pose_landmarks``, ``face_landmarks``, ``left_hand_landmarks``,
``right_hand_landmarks`` and ``pose_world_landmarks``: the legacy ``Holistic`` is one, :class:`TasksGraph`
is the other. Frames are streamed in VIDEO mode, stamped as the legacy graph stamps them (one frame
every 1/30 s, whatever the video's rate), so tracking and smoothing see the same time steps.

The Tasks graph cannot be reset, so :meth:`TasksGraph.reset` makes a new landmarker: a video's
landmarks never depend on the videos before it.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np

from .config import HolisticConfig
from .errors import MESSAGE, InputError, excerpt
from .task_bundle import bundle_for

FRAME_STEP_US = 33333  # the legacy graph's simulated 30 fps clock (mediapipe/python/solution_base.py)
_COMPONENTS = (
    "pose_landmarks",
    "face_landmarks",
    "left_hand_landmarks",
    "right_hand_landmarks",
    "pose_world_landmarks",
)


class BundleMismatchWarning(UserWarning):
    """The Tasks bundle is not the one the settings record (the poses will differ from the recorded ones)."""


def open_bundle(config: HolisticConfig):
    """``(path, sha256)`` of the bundle ``config`` runs, warning when it is not the recorded one."""
    path, digest = bundle_for(config.task_bundle)
    if config.task_bundle_sha256 and config.task_bundle_sha256 != digest:
        warnings.warn(
            f"{path}: this Holistic Tasks bundle (sha256 {digest[:12]}) is not the one the poses were recorded "
            f"with ({config.task_bundle_sha256[:12]}); landmarks will differ slightly",
            BundleMismatchWarning,
            stacklevel=3,
        )
    return path, digest


class TasksGraph:
    """One live ``HolisticLandmarker`` in VIDEO mode with the legacy graph's ``reset/process/close``."""

    def __init__(self, config: HolisticConfig):
        from mediapipe.tasks.python import BaseOptions
        from mediapipe.tasks.python.vision import RunningMode
        from mediapipe.tasks.python.vision import holistic_landmarker as hl

        self.path, self.sha256 = open_bundle(config)
        self._hl = hl
        # two thresholds of the legacy graph map onto the Tasks graph's five; both suppression
        # thresholds are the legacy detectors' (the Tasks defaults changed between releases)
        self._options = hl.HolisticLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.path)),
            running_mode=RunningMode.VIDEO,
            min_pose_detection_confidence=config.min_detection_confidence,
            min_face_detection_confidence=config.min_detection_confidence,
            min_pose_suppression_threshold=0.3,
            min_face_suppression_threshold=0.3,
            min_pose_landmarks_confidence=config.min_tracking_confidence,
            min_face_landmarks_confidence=config.min_tracking_confidence,
            min_hand_landmarks_confidence=config.min_tracking_confidence,
        )
        # mediapipe 0.10.x's wrapper aborts the process (a fatal C++ check) when a part is missing
        # from a frame and returns nothing at all without a face, so there the graph's output
        # packets are read directly; 1.x returns empty lists instead
        self._packets = hasattr(hl, "packet_getter")
        self._landmarker = None
        self._frames = 0
        self._open()

    def _open(self) -> None:
        try:
            self._landmarker = self._hl.HolisticLandmarker.create_from_options(self._options)
        except (RuntimeError, ValueError) as err:
            first = excerpt((str(err).strip().splitlines() or [type(err).__name__])[0], MESSAGE)
            raise InputError(self.path, f"MediaPipe cannot load this Holistic Tasks bundle ({first})") from err
        self._frames = 0

    def reset(self) -> None:
        if self._frames:  # a fresh landmarker has nothing to forget
            self._landmarker.close()
            self._open()

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def step(self, step: int) -> None:
        """Stamp the next frame ``step`` frames into the clock (a live stream's frame after dropped ones)."""
        self._frames = step

    def process(self, frame: np.ndarray) -> SimpleNamespace:
        """Landmarks of one RGB frame, each part a sequence of points (``x, y, z``, ``visibility``) or None."""
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
        stamp_us = self._frames * FRAME_STEP_US
        self._frames += 1
        if self._packets:
            return self._from_packets(image, stamp_us)
        result = self._landmarker.detect_for_video(image, stamp_us // 1000)
        return SimpleNamespace(**{name: getattr(result, name) or None for name in _COMPONENTS})

    def _from_packets(self, image, stamp_us: int) -> SimpleNamespace:
        from mediapipe.python import packet_creator, packet_getter

        hl = self._hl
        packet = packet_creator.create_image(image).at(stamp_us)
        out = self._landmarker._process_video_data({hl._IMAGE_IN_STREAM_NAME: packet})
        streams = {
            "pose_landmarks": hl._POSE_LANDMARKS_STREAM_NAME,
            "face_landmarks": hl._FACE_LANDMARKS_STREAM_NAME,
            "left_hand_landmarks": hl._LEFT_HAND_LANDMARKS_STREAM_NAME,
            "right_hand_landmarks": hl._RIGHT_HAND_LANDMARKS_STREAM_NAME,
            "pose_world_landmarks": hl._POSE_WORLD_LANDMARKS_STREAM_NAME,
        }
        return SimpleNamespace(
            **{
                name: None if out[stream].is_empty() else packet_getter.get_proto(out[stream]).landmark
                for name, stream in streams.items()
            }
        )
