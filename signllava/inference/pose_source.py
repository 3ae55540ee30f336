"""A video's or .pose file's poses, extracted the way the model's training poses were, cached by
content hash, prefetched in the background.

A video's poses are cached as ``$SIGNLLAVA_CACHE/poses/{content hash}-{settings digest}.pose``: the
same file extracted with the same Holistic settings and frame rate is read back, not extracted again;
a changed file or other settings are another entry. :meth:`PoseSource.key` also names the input's
poses in the encoder-feature cache (:mod:`signllava.inference.translator`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import asdict
from pathlib import Path

from pose_format import Pose

from pose.config import HolisticConfig, VideoConfig
from pose.errors import InputError
from pose.io import file_sha256, read_pose, write_pose
from pose.video import FRAMES_FPS, frame_files, is_frame_folder, resample_pose

from ..model.llm import cache_dir
from .timings import Timings


def input_seconds(path: str | os.PathLike) -> float:
    """A video's or ``.pose`` file's duration from its header or container alone, in milliseconds: so
    a bad input is refused before any model loads (decoding may still find a damaged frame)."""
    from pose.io import pose_seconds
    from pose.video import is_frame_folder, probe

    path = Path(path)
    if path.is_dir() and not is_frame_folder(path):
        raise InputError(
            path, "a folder: give a video, a folder of its frames or a .pose file, or several inputs with -o FOLDER"
        )
    return pose_seconds(path) if path.suffix == ".pose" else probe(path).duration


def _in_background(fn, *args) -> Future:
    """``fn(*args)`` in a daemon thread (it never holds up the process's exit); its result as a Future."""
    future = Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as err:  # handed to whoever asks for the result
            future.set_exception(err)

    threading.Thread(target=run, name="pose-prefetch", daemon=True).start()
    return future


Progress = Callable[[Path, str, int, int], None]
"""``progress(input, stage, done, total)``: how far an input's translation is; stage ``poses`` (frames
extracted, of the container's estimate; from the thread that extracts, which may be a prefetch's),
``features`` (done = total = the input's frames, once its poses are in), an encoder stream's name
(0 or 1 of 1), ``decoding`` (frames translated of the input's frames)."""


class PoseSource:
    """Holistic poses of videos and .pose files at ``target_fps``; ``cache``: the pose cache folder
    (default ``$SIGNLLAVA_CACHE/poses``); ``workers``: the pose worker processes (0: one per core).
    ``progress``: told how far each extraction is (:data:`Progress`, stage ``poses``)."""

    def __init__(
        self,
        holistic: HolisticConfig | None = None,
        cache: Path | None = None,
        target_fps: float | None = 25.0,
        workers: int = 0,
        frames_fps: float = FRAMES_FPS,
    ):
        from pose.parallel import ParallelExtractor  # loads MediaPipe: only once poses are wanted

        self.holistic = holistic or HolisticConfig()
        self.cache = Path(cache) if cache else cache_dir() / "poses"
        self.target_fps = target_fps
        self.frames_fps = frames_fps  # the rate of a video given as a folder of frames
        # one video's frames split over live MediaPipe graphs in worker processes (0: one per core)
        self.extractor = ParallelExtractor(self.holistic, workers)
        self._hashes: dict[tuple, str] = {}
        self._pending: dict[tuple, Future] = {}  # poses being extracted in the background (prefetch)
        self._last_prefetch: Future | None = None
        self.progress: Progress | None = None
        self._extracting = threading.Lock()

    def poses(self, path: str | os.PathLike, timings: Timings) -> Pose:
        """The video's Holistic pose (from the cache when this exact file was seen before), or a .pose
        file's, resampled by nearest frame to the frame rate the model's poses had (as videos are).
        Seconds spent hashing and extracting go to ``timings`` (stages ``hash`` and ``poses``)."""
        path = Path(path)
        if path.suffix == ".pose":
            return resample_pose(read_pose(path), self.target_fps)
        if not path.is_file() and not is_frame_folder(path):
            raise InputError(path, "file not found")
        start = time.perf_counter()
        cached = self.cached_pose(path)
        timings.add("hash", time.perf_counter() - start)
        if cached.is_file():
            timings.cached_poses = True
            return read_pose(cached)
        pending = self._pending.pop(self._file_key(path), None)
        pose, seconds = pending.result() if pending is not None else self._extract(path)
        timings.add("poses", seconds)
        if not pose.body.confidence[:, 0, :-33].any():
            raise InputError(path, "no signer found in any frame")
        write_pose(pose, cached)
        return pose

    def prefetch(self, paths: Sequence[str | os.PathLike]) -> None:
        """Start extracting these videos' poses now, in a background thread (the extraction itself runs
        in the pose worker processes), for :meth:`poses` to pick up: the CLI starts its video's while
        the model loads, and the next input's while the current one decodes. Prefetches run in the
        order they were asked for. Videos already cached, ``.pose`` files and missing files are left
        to :meth:`poses`."""
        for p in paths:
            path = Path(p)
            if path.suffix == ".pose" or not path.exists() or self.cached_pose(path).is_file():
                continue
            key = self._file_key(path)
            if key not in self._pending:
                # after the previous prefetch, not racing it for the extraction lock: the video wanted
                # first is extracted first
                future = _in_background(self._extract_after, self._last_prefetch, path)
                self._pending[key] = self._last_prefetch = future

    def _extract_after(self, previous: Future | None, path: Path) -> tuple[Pose, float]:
        if previous is not None:
            wait([previous])
        return self._extract(path)

    def _extract(self, path: Path) -> tuple[Pose, float]:
        with self._extracting:  # one video at a time (prefetch threads and callers): it uses every worker
            start = time.perf_counter()
            progress = self.progress
            on_frame = None if progress is None else (lambda done, total: progress(path, "poses", done, total))
            video = VideoConfig(target_fps=self.target_fps, frames_fps=self.frames_fps)
            pose = self.extractor.extract(path, video, on_frame=on_frame)
            return pose, time.perf_counter() - start

    # --- cache keys ------------------------------------------------------------------------------

    def key(self, path: Path) -> str:
        """What names this input's poses in cache file names: its content hash and how its poses were
        made (a .pose file's at the model's frame rate, a video's extracted with these settings)."""
        poses = f"pose{self.target_fps}" if path.suffix == ".pose" else self.settings_digest()
        rate = f"-at{self.frames_fps:g}" if path.is_dir() else ""  # a frame folder's stated rate
        return f"{self.content_hash(path)}-{poses}{rate}"

    def cached_pose(self, path: Path) -> Path:
        """The cache entry of this video's poses extracted with these settings."""
        return self.cache / f"{self.key(path)}.pose"

    def settings_digest(self) -> str:
        """Short digest of the extraction settings (Holistic, frame rate), for cache keys."""
        settings = json.dumps([asdict(self.holistic), self.target_fps], sort_keys=True).encode()
        return hashlib.sha256(settings).hexdigest()[:12]

    @staticmethod
    def _file_key(path: Path) -> tuple:
        """One version of a file (a rewritten file is another), or of a frame folder's files."""
        files = frame_files(path) if path.is_dir() else [path]
        return (path.resolve(), *((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files))

    def content_hash(self, path: Path) -> str:
        """The file's content hash (a frame folder's: of its frames' hashes in order), computed once per
        version of the file."""
        key = self._file_key(path)
        if key not in self._hashes:
            if path.is_dir():
                frames = "".join(file_sha256(f) for f in frame_files(path))
                self._hashes[key] = hashlib.sha256(frames.encode()).hexdigest()[:32]
            else:
                self._hashes[key] = file_sha256(path)[:32]
        return self._hashes[key]

    def close(self, abort: bool = False) -> None:
        """Stop the pose workers (they also stop with the process). A prefetch under way is
        finished first, unless ``abort``: then its worker processes are killed and it is dropped."""
        if abort:
            self.extractor.abort()
        for pending in self._pending.values():
            pending.exception()  # let a prefetch finish (or fail) before its workers go
        self._pending.clear()
        self.extractor.close()
