"""Streaming video decoding (PyAV, decord or OpenCV) with optional fps resampling.

Frames are yielded one at a time as contiguous RGB ``uint8`` arrays ``(H, W, 3)``; a video is
never held in memory whole. Every failure is raised as :class:`VideoError` naming the file.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import MESSAGE, VideoError, excerpt, quoted

# Measured on 1280x720 How2Sign clips, one thread: PyAV 2.5 ms of CPU per frame (one swscale
# context reused per video), OpenCV 3.1 ms, decord 4.2 ms; so ``auto`` prefers PyAV.
BACKENDS = ("pyav", "decord", "opencv")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv")
# a folder of numbered images is a video too (RWTH-PHOENIX-2014T's PNGs, CSL-Daily's JPEGs), at a stated rate
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
FRAMES_FPS = 25.0  # a frame folder's rate unless stated (video.frames_fps): both datasets' release rate


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (frame counts may be estimates)."""

    path: str
    fps: float
    num_frames: int  # as reported by the container; decoding is the truth
    width: int
    height: int
    backend: str

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def available_backends() -> list[str]:
    found = []
    for name, module in (("pyav", "av"), ("decord", "decord"), ("opencv", "cv2")):
        try:
            __import__(module)
        except ImportError:
            continue
        found.append(name)
    return found


def resolve_backend(backend: str) -> list[str]:
    """Backends to try, in order. ``auto`` tries every installed one (PyAV first)."""
    if backend == "auto":
        found = available_backends()
        if not found:
            raise VideoError(None, "no video backend installed: install decord, av or opencv-python")
        return found
    if backend not in BACKENDS:
        raise VideoError(None, f"unknown video backend {quoted(backend)}; choose one of auto, {', '.join(BACKENDS)}")
    return [backend]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VideoError(path, "file not found")
    if not path.is_file():
        raise VideoError(path, "not a file")
    if path.stat().st_size == 0:
        raise VideoError(path, "empty file (0 bytes), not a video")


def _check_fps(path: Path, fps: float) -> float:
    if fps is None or not math.isfinite(fps) or fps <= 0 or fps > 1000:
        raise VideoError(path, f"unreadable frame rate ({quoted(fps)} fps) in the container")
    return float(fps)


@contextlib.contextmanager
def native_stderr_quiet() -> Iterator[None]:
    """Hide what native code writes to file descriptor 2 meanwhile: FFmpeg inside decord and OpenCV
    logs its own lines for an unreadable file, past Python, before our one-line error says the same."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no file descriptor 2 (an embedding host): nothing to hide
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# --- per-backend probing -------------------------------------------------------------------------


def _probe_decord(path: Path) -> VideoInfo:
    import decord

    with native_stderr_quiet():
        vr = decord.VideoReader(str(path), num_threads=1)
    n = len(vr)
    if n == 0:
        raise VideoError(path, "video has no frames")
    fps = _check_fps(path, vr.get_avg_fps())
    h, w = vr[0].shape[:2]
    return VideoInfo(str(path), fps, n, int(w), int(h), "decord")


def _probe_pyav(path: Path) -> VideoInfo:
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise VideoError(path, "no video stream in the file")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = _check_fps(path, float(rate) if rate else float("nan"))
        n = stream.frames
        if not n and stream.duration and stream.time_base:
            n = round(float(stream.duration * stream.time_base) * fps)
        if not n and container.duration:
            n = round(container.duration / 1e6 * fps)
        w, h = stream.codec_context.width, stream.codec_context.height
    if not n:
        raise VideoError(path, "video has no frames")
    return VideoInfo(str(path), fps, int(n), int(w), int(h), "pyav")


def _probe_opencv(path: Path) -> VideoInfo:
    import cv2

    with native_stderr_quiet():
        cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise RuntimeError("cannot open it as a video")
        fps = _check_fps(path, cap.get(cv2.CAP_PROP_FPS))
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        cap.release()
    if n <= 0 or w <= 0 or h <= 0:
        raise VideoError(path, "video has no frames")
    return VideoInfo(str(path), fps, n, w, h, "opencv")


_PROBES = {"decord": _probe_decord, "pyav": _probe_pyav, "opencv": _probe_opencv}


def probe(path: str | os.PathLike, backend: str = "auto", frames_fps: float = FRAMES_FPS) -> VideoInfo:
    """Read a video's fps, frame count and size without decoding it whole; a frame folder's from its files
    (its rate is ``frames_fps``)."""
    path = Path(path)
    if path.is_dir():
        return _probe_frame_folder(path, frames_fps)
    _check_file(path)
    errors, facts = [], []
    for name in resolve_backend(backend):
        try:
            return _PROBES[name](path)
        except VideoError as err:  # opened, but no frames or no usable fps: try the next backend
            facts.append(err)
        except Exception as err:  # backends raise their own types for unreadable files
            errors.append(f"{name}: {excerpt(str(err).splitlines()[0], MESSAGE) if str(err) else type(err).__name__}")
    if facts:
        raise facts[0]
    raise VideoError(path, "not a readable video (" + "; ".join(errors) + ")")


# --- frame folders -------------------------------------------------------------------------------


def _natural(path: Path) -> list:
    """Sort key that orders ``images2.png`` before ``images10.png`` (numbers compared as numbers)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def frame_files(folder: str | os.PathLike) -> list[Path]:
    """The images directly in ``folder``, in frame order (numbers in their names compared as numbers)."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES]
    return sorted(files, key=_natural)


def is_frame_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder with images directly in it (a video stored frame by frame)."""
    path = Path(path)
    return path.is_dir() and any(p.suffix.lower() in FRAME_SUFFIXES and p.is_file() for p in path.iterdir())


def frames_from_glob(path: str | os.PathLike) -> Path:
    """``path`` itself, or for a glob of one video's frames (a corpus's ``<name>/*.png``) their folder."""
    import glob

    text = str(path)
    if not glob.has_magic(text):
        return Path(path)
    matches = [Path(m) for m in sorted(glob.glob(text))]
    images = [m for m in matches if m.is_file() and m.suffix.lower() in FRAME_SUFFIXES]
    if not images:
        raise VideoError(path, f"the pattern matches no frames ({', '.join(FRAME_SUFFIXES)} files)")
    folders = sorted({m.parent for m in images})
    if len(folders) > 1:
        raise VideoError(path, f"the pattern matches frames in {len(folders)} folders; one video's frames are one")
    return folders[0]


def _read_image(path: Path, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """Frame ``index`` of a folder, RGB; ``size``: the folder's frame size (its first frame's), which a frame
    declaring another is refused with before it is decoded (as a decoded one of another size would be)."""
    import cv2

    from .image_header import image_header

    data = path.read_bytes()
    declared, problem = image_header(data) if data else (None, "an empty file")
    if problem is not None:
        raise VideoError(path, f"frame {index} of its folder is not a readable image ({problem})")
    if size is not None and declared is not None and declared != size:
        raise VideoError(path, f"frame {index} changes size to {declared[0]}x{declared[1]}")
    try:
        with native_stderr_quiet():  # libpng and libjpeg print their own lines for a damaged frame
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)  # BGR; None for a non-image
    except cv2.error:  # what its checks raise instead of returning None
        image = None
    if image is None:
        raise VideoError(path, f"frame {index} of its folder is not a readable image")
    return np.ascontiguousarray(image[:, :, ::-1])


def _missing_frames(files: list[Path]) -> str | None:
    """Where numbered frames skip a number (``images0001, images0003``): the first gap, else None."""
    numbers = []
    for f in files:
        found = re.search(r"(\d+)$", f.stem)
        if found is None:
            return None  # not numbered: the names say nothing of gaps
        numbers.append(int(found.group(1)))
    for before, after in itertools.pairwise(numbers):
        if after != before + 1:
            return f"frame numbers jump from {before} to {after} ({after - before - 1} missing)"
    return None


def _probe_frame_folder(path: Path, fps: float) -> VideoInfo:
    files = frame_files(path)
    if not files:
        raise VideoError(path, f"a folder without frames (no {', '.join(FRAME_SUFFIXES)} files in it)")
    gap = _missing_frames(files)
    if gap is not None:
        raise VideoError(path, f"frames missing: {gap}")
    height, width = _read_image(files[0], 0).shape[:2]
    return VideoInfo(str(path), _check_fps(path, fps), len(files), width, height, "frames")


def _frames_folder(path: Path) -> Iterator[np.ndarray]:
    size = None
    for i, file in enumerate(frame_files(path)):
        frame = _read_image(file, i, size)
        size = size or (frame.shape[1], frame.shape[0])
        yield frame


# --- per-backend frame streams -------------------------------------------------------------------


def _frames_decord(path: Path) -> Iterator[np.ndarray]:
    import decord

    with native_stderr_quiet():
        vr = decord.VideoReader(str(path), num_threads=1)
    for _ in range(len(vr)):
        yield vr.next().asnumpy()


def _frames_pyav(path: Path) -> Iterator[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1  # batch workers already fill every core
        reformatter = av.video.reformatter.VideoReformatter()  # one swscale context per video
        for frame in container.decode(stream):
            rgb = reformatter.reformat(frame, format="rgb24", threads=1)
            yield np.ascontiguousarray(rgb.to_ndarray())


def _frames_opencv(path: Path) -> Iterator[np.ndarray]:
    import cv2

    with native_stderr_quiet():
        cap = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


_STREAMS = {"decord": _frames_decord, "pyav": _frames_pyav, "opencv": _frames_opencv, "frames": _frames_folder}


def resample_plan(source_fps: float, target_fps: float | None) -> tuple[float, callable]:
    """Return the output fps and ``repeat(i)``: how many times source frame ``i`` is emitted.

    Output frame ``k`` shows the source frame nearest to time ``k / target_fps``; frames are dropped
    when downsampling and repeated when upsampling, so no frame is ever synthesized.
    """
    if target_fps is None or abs(target_fps - source_fps) < 1e-6:
        return source_fps, lambda i: 1
    ratio = source_fps / target_fps

    def repeat(i: int) -> int:
        # outputs k with round(k * ratio) == i  <=>  (i - 0.5)/ratio <= k < (i + 0.5)/ratio
        lo = max(0, math.ceil((i - 0.5) / ratio))
        hi = math.ceil((i + 0.5) / ratio)
        return max(0, hi - lo)

    return float(target_fps), repeat


def nearest_frames(num_frames: int, source_fps: float, target_fps: float | None) -> np.ndarray:
    """The source frame each output frame shows when ``num_frames`` frames at ``source_fps`` are
    resampled to ``target_fps`` (the rule of :func:`resample_plan`, as indices, for whole arrays)."""
    if num_frames <= 0 or target_fps is None or abs(target_fps - source_fps) < 1e-6:
        return np.arange(max(num_frames, 0))
    ratio = source_fps / target_fps
    count = max(1, math.ceil((num_frames - 0.5) / ratio))  # outputs k with round(k * ratio) < num_frames
    return np.minimum(np.floor(np.arange(count) * ratio + 0.5).astype(np.int64), num_frames - 1)


def resample_pose(pose, target_fps: float | None):
    """``pose`` (pose-format) at ``target_fps`` by nearest frame, as videos are resampled while their
    poses are extracted; the same object when it already is at that rate (or ``target_fps`` is None)."""
    from pose_format import Pose

    fps = float(pose.body.fps)
    if target_fps is None or abs(target_fps - fps) < 1e-6:
        return pose
    body = pose.body.select_frames(nearest_frames(len(pose.body.data), fps, target_fps))
    body.fps = float(target_fps)
    return Pose(pose.header, body)


class VideoStream:
    """A video opened for streaming: ``info`` (after resampling) and ``frames()``."""

    def __init__(
        self,
        path: str | os.PathLike,
        backend: str = "auto",
        target_fps: float | None = None,
        frames_fps: float = FRAMES_FPS,
    ):
        self.path = Path(path)
        self.source = probe(self.path, backend, frames_fps)
        self.backend = self.source.backend
        if target_fps is not None and (not math.isfinite(target_fps) or target_fps <= 0):
            raise VideoError(self.path, f"target fps must be positive, got {quoted(target_fps)}")
        self.fps, self._repeat = resample_plan(self.source.fps, target_fps)

    @property
    def width(self) -> int:
        return self.source.width

    @property
    def height(self) -> int:
        return self.source.height

    @property
    def estimated_frames(self) -> int:
        return max(1, round(self.source.num_frames * self.fps / self.source.fps))

    def frames(self) -> Iterator[np.ndarray]:
        """Yield RGB frames (resampled to ``self.fps``). Raises VideoError on decode failure."""
        decoded = 0
        try:
            for i, frame in enumerate(_STREAMS[self.backend](self.path)):
                decoded = i + 1
                if frame.shape[0] != self.height or frame.shape[1] != self.width:
                    raise VideoError(self.path, f"frame {i} changes size to {frame.shape[1]}x{frame.shape[0]}")
                for _ in range(self._repeat(i)):
                    yield frame
        except VideoError:
            raise
        except Exception as err:
            msg = excerpt(str(err).splitlines()[0], MESSAGE) if str(err) else type(err).__name__
            raise VideoError(self.path, f"corrupt video: decoding failed after {decoded} frames ({msg})") from err
        if decoded == 0:
            raise VideoError(self.path, "video has no decodable frames")


def prefetch(frames: Iterator[np.ndarray], depth: int = 4) -> Iterator[np.ndarray]:
    """Decode ahead in a background thread (bounded to ``depth`` frames).

    MediaPipe releases the GIL while it runs and uses ~1.35 cores per graph, so with one graph on a
    multi-core machine the decoder fills otherwise idle time. Errors are re-raised in the caller.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def put(item) -> bool:
        """Hand an item over unless the consumer has stopped (then never block)."""
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for frame in frames:
                if not put(frame):
                    return
            put(done)
        except BaseException as err:  # handed to the consumer
            put(err)

    thread = threading.Thread(target=work, name="video-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
