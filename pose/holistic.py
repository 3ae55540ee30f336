"""MediaPipe Holistic on a video stream, written as pose-format ``Pose`` objects.

The header (components, point names and order, limbs, colours) is pose-format's own Holistic
header, so ``pose_info``, ``visualize_pose`` and pose-format's normalization read our files and
theirs alike: POSE_LANDMARKS (33), FACE_LANDMARKS (468, or 478 refined), LEFT_HAND_LANDMARKS (21),
RIGHT_HAND_LANDMARKS (21), POSE_WORLD_LANDMARKS (33); point format XYZC; x and y in pixels, z as
MediaPipe gives it. A part that MediaPipe did not find in a frame has confidence 0, which
pose-format reads as masked.

Two backends give these components (``holistic.backend``): ``legacy``, mediapipe 0.10.21's Holistic
graph, whose landmarks equal pose-format's ``video_to_pose``; and ``tasks``, the Tasks
``HolisticLandmarker`` (:mod:`pose.holistic_tasks`), which runs the same models on every mediapipe
from 0.10.21 on, including the releases for Python 3.13 and numpy 2.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterable

import numpy as np
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody
from pose_format.pose_header import PoseHeader, PoseHeaderDimensions

from .config import HolisticConfig, VideoConfig, backend_problem
from .errors import InputError
from .topology import holistic_components
from .video import VideoStream, prefetch

BODY_POINTS = 33
HAND_POINTS = 21
IRIS_POINTS = 10


@contextlib.contextmanager
def quiet_mediapipe():
    """Mute MediaPipe's C++ logging, which writes straight to file descriptor 2.

    Inside the block fd 2 points at /dev/null while ``sys.stderr`` (Python warnings, progress
    bars created inside the block) still reaches the terminal through a copy of the old fd 2.
    MediaPipe failures still surface as Python exceptions. Set ``SIGNLLAVA_MEDIAPIPE_LOGS=1``
    to see the native logs when debugging.
    """
    if os.environ.get("SIGNLLAVA_MEDIAPIPE_LOGS") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    old_stderr = sys.stderr
    ours = os.fdopen(os.dup(saved), "w", buffering=1, encoding=getattr(old_stderr, "encoding", None))
    sys.stderr = ours
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        ours.flush()
        os.dup2(saved, 2)
        # Put the old stream back only if nobody swapped sys.stderr meanwhile (a test runner's
        # capture, another thread), and never close ours: whoever swapped may put it back later,
        # and a closed sys.stderr breaks every later write. It closes when no longer referenced.
        if sys.stderr is ours:
            sys.stderr = old_stderr
        os.close(saved)
        os.close(devnull)


class NoSignerWarning(UserWarning):
    """No person was found in any frame of a video."""


def face_points(config: HolisticConfig) -> int:
    return 468 + (IRIS_POINTS if config.refine_face_landmarks else 0)


def holistic_header(width: int, height: int, config: HolisticConfig) -> PoseHeader:
    """pose-format's Holistic header for a ``width`` x ``height`` video."""
    extra = IRIS_POINTS if config.refine_face_landmarks else 0
    return PoseHeader(
        version=0.2,
        dimensions=PoseHeaderDimensions(width=width, height=height, depth=0),
        components=holistic_components("XYZC", extra),
    )


def _landmarks(component, n: int, scale: np.ndarray, with_visibility: bool) -> tuple[np.ndarray, np.ndarray]:
    """One MediaPipe landmark list (a legacy proto with ``.landmark``, or the points themselves) as
    ``(n, 3)`` coordinates and ``(n,)`` confidences; only its first ``n`` points are kept (the Tasks
    face has 478, of which 468-477 are padding)."""
    if component is None:
        return np.zeros((n, 3), np.float32), np.zeros(n, np.float32)
    lm = getattr(component, "landmark", component)[:n]
    xyz = np.array([(p.x, p.y, p.z) for p in lm], np.float32) * scale
    if with_visibility:
        conf = np.array([p.visibility for p in lm], np.float32)
    else:
        conf = np.ones(n, np.float32)
    return xyz, conf


def prepared(config: HolisticConfig) -> HolisticConfig:
    """``config`` once its backend is known to run here, with what the extraction will use filled in
    (the Tasks bundle's sha256; the bundle is built first if needed, and loaded once): for a parent
    process to call before starting workers, so that a missing backend or a bundle MediaPipe cannot
    load is one InputError line rather than dead workers, and for the record."""
    import dataclasses

    problem = backend_problem(config.backend)
    if problem:
        raise InputError(None, problem)
    if config.backend != "tasks":
        return config
    from .holistic_tasks import TasksGraph

    with quiet_mediapipe():
        graph = TasksGraph(config)
        graph.close()
    return dataclasses.replace(config, task_bundle_sha256=graph.sha256)


def open_graph(config: HolisticConfig):
    """A live graph of ``config``'s backend, with ``reset()``, ``process(rgb_frame)`` and ``close()``."""
    problem = backend_problem(config.backend)
    if problem:
        raise InputError(None, problem)
    if config.backend == "tasks":
        from .holistic_tasks import TasksGraph

        return TasksGraph(config)
    import mediapipe as mp

    return mp.solutions.holistic.Holistic(**config.mediapipe_kwargs())


class HolisticExtractor:
    """One live MediaPipe Holistic graph (legacy or Tasks), reused across videos (reset in between).

    ``reset()`` restarts tracking and smoothing, so the landmarks of a video do not depend on the
    videos processed before it (checked bit-exact against a fresh graph in the tests).
    """

    def __init__(self, config: HolisticConfig | None = None):
        self.config = config or HolisticConfig()
        self._graph = open_graph(self.config)
        self._face_n = face_points(self.config)

    def close(self) -> None:
        self._graph.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def frame_arrays(self, results, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Holistic results of one frame as ``(P, 3)`` data and ``(P,)`` confidence (P = 576)."""
        px = np.array([width, height, 1.0], np.float32)
        parts = [
            _landmarks(results.pose_landmarks, BODY_POINTS, px, True),
            _landmarks(results.face_landmarks, self._face_n, px, False),
            _landmarks(results.left_hand_landmarks, HAND_POINTS, px, False),
            _landmarks(results.right_hand_landmarks, HAND_POINTS, px, False),
            # world landmarks are in metres; pose-format scales them like image points (kept for parity)
            _landmarks(results.pose_world_landmarks, BODY_POINTS, px, True),
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def process_at(self, frame: np.ndarray, step: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """One frame of a live stream: its ``(P, 3)`` data and ``(P,)`` confidence, the frame stamped
        ``step`` frames into the graph's clock (steps must grow). The graph's clock runs as for a
        video's frames (:meth:`landmarks`: one step per frame, 1/30 s), so a stream's landmarks equal
        the same video's when every frame is processed, and a frame the stream dropped leaves its gap
        in the clock for tracking and smoothing to see."""
        from .holistic_tasks import FRAME_STEP_US, TasksGraph

        if isinstance(self._graph, TasksGraph):
            self._graph.step(step)
        else:  # the legacy solution stamps each frame one 1/30-s step after its own counter
            self._graph._simulated_timestamp = step * FRAME_STEP_US
        return self.frame_arrays(self._graph.process(frame), width, height)

    def landmarks(
        self,
        frames: Iterable[np.ndarray],
        width: int,
        height: int,
        skip: int = 0,
        on_frame: Callable[[int], None] | None = None,
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per-frame ``(P, 3)`` data and ``(P,)`` confidence, tracking reset first; the first ``skip``
        frames are tracked but not returned (a warm-up for a chunk cut from the middle of a video).
        A frame repeated by fps resampling (the same array again, e.g. 24 -> 25 fps) is not run
        through the graph twice: it shows the same instant, so it gets the same landmarks."""
        self._graph.reset()
        data, conf = [], []
        previous, d, c = None, None, None
        for i, frame in enumerate(frames):
            if frame is not previous:
                d, c = self.frame_arrays(self._graph.process(frame), width, height)
                previous = frame
            if i >= skip:
                data.append(d)
                conf.append(c)
            if on_frame is not None:
                on_frame(1)
        return data, conf

    def process_frames(
        self,
        frames: Iterable[np.ndarray],
        fps: float,
        width: int,
        height: int,
        on_frame: Callable[[int], None] | None = None,
        name: str = "video",
    ) -> Pose:
        """Run the graph over RGB frames of one video and return its Pose (tracking reset first)."""
        data, conf = self.landmarks(frames, width, height, on_frame=on_frame)
        return build_pose(data, conf, fps, width, height, self.config, name)

    def process_video(
        self,
        path: str | os.PathLike,
        video: VideoConfig | None = None,
        on_frame: Callable[[int], None] | None = None,
    ) -> Pose:
        """Decode ``path`` frame by frame (never whole) and return its Pose."""
        video = video or VideoConfig()
        stream = VideoStream(path, video.backend, video.target_fps, video.frames_fps)
        frames = prefetch(stream.frames())  # decoding overlaps the graph
        return self.process_frames(frames, stream.fps, stream.width, stream.height, on_frame, str(path))


def build_pose(
    data: list[np.ndarray] | np.ndarray,
    conf: list[np.ndarray] | np.ndarray,
    fps: float,
    width: int,
    height: int,
    config: HolisticConfig,
    name: str,
) -> Pose:
    """A Pose from per-frame ``(P, 3)`` data and ``(P,)`` confidence, lists of frames or ``(T, P, 3)`` and ``(T, P)``
    arrays (warns when no signer is found)."""
    header = holistic_header(width, height, config)
    n_points = header.total_points()
    if len(data):
        body_data = np.stack(data)[:, None]  # (T, 1, P, 3)
        body_conf = np.stack(conf)[:, None]  # (T, 1, P)
    else:
        body_data = np.zeros((0, 1, n_points, 3), np.float32)
        body_conf = np.zeros((0, 1, n_points), np.float32)
    if not body_conf[..., : n_points - BODY_POINTS].any():
        warnings.warn(
            f"{name}: no signer found in any of {len(data)} frames; every point is masked",
            NoSignerWarning,
            stacklevel=3,
        )
    return Pose(header, NumPyPoseBody(fps=fps, data=body_data, confidence=body_conf))


def extract_pose(
    path: str | os.PathLike, holistic: HolisticConfig | None = None, video: VideoConfig | None = None
) -> Pose:
    """Extract one video's Pose with a fresh graph (use :class:`HolisticExtractor` for many)."""
    with quiet_mediapipe(), HolisticExtractor(holistic) as extractor:
        return extractor.process_video(path, video)
