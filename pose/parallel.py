"""One video's poses from several MediaPipe graphs at once (for interactive use: ``translate``).

Batch extraction (:mod:`pose.batch`) keeps every core busy with one video per worker; a single
video on a multi-core machine would leave cores idle, since one Holistic graph uses ~1.35 cores.
Here the video's frames are cut into consecutive chunks, one per worker process (each with a live
graph), and the landmarks are joined in order. Each chunk after the first starts ``warmup`` frames
early and drops those results, so tracking and smoothing have settled at the seam; the landmarks
differ from one graph's only in the first frames after a seam (measured in the tests).
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np
from pose_format import Pose

from .config import HolisticConfig, VideoConfig
from .holistic import HolisticExtractor, build_pose, prepared, quiet_mediapipe
from .video import VideoStream, prefetch

_extractor: HolisticExtractor | None = None
_frames_done = None  # the pool's queue of frame counts (progress), in a worker
PROGRESS_EVERY = 8  # frames between a worker's progress messages


def _init_worker(config: HolisticConfig, frames_done=None) -> None:
    global _extractor, _frames_done
    _frames_done = frames_done
    if os.environ.get("SIGNLLAVA_MEDIAPIPE_LOGS") != "1":  # MediaPipe's C++ logs go to fd 2
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    _extractor = HolisticExtractor(config)


def _warm() -> bool:
    return _extractor is not None


def _chunk(path: str, video: VideoConfig, start: int, stop: int | None, warmup: int, report: bool = False):
    """Landmarks of output frames ``[start, stop)`` (``stop`` None: to the end), tracking from ``start - warmup``;
    with ``report``, frame counts go to the pool's progress queue as they are done."""
    stream = VideoStream(path, video.backend, video.target_fps, video.frames_fps)
    first = max(0, start - warmup)
    frames = prefetch(itertools.islice(stream.frames(), first, stop))
    pending, warming = [0], [start - first]

    def on_frame(n: int) -> None:
        if warming[0] > 0:  # the warm-up frames are no output frames: the total does not count them
            warming[0] -= n
            return
        pending[0] += n
        if pending[0] >= PROGRESS_EVERY:
            _frames_done.put(pending[0])
            pending[0] = 0

    hook = on_frame if report and _frames_done is not None else None
    data, conf = _extractor.landmarks(frames, stream.width, stream.height, skip=start - first, on_frame=hook)
    if hook is not None and pending[0]:
        _frames_done.put(pending[0])
    return data, conf, stream.fps, stream.width, stream.height


def chunk_bounds(frames: int, workers: int, min_frames: int) -> list[tuple[int, int | None]]:
    """Consecutive ``[start, stop)`` output-frame ranges, the last one open-ended (frame counts
    from the container are estimates). Chunks shorter than ``min_frames`` are not worth a worker."""
    n = max(1, min(workers, frames // max(1, min_frames)))
    starts = [round(frames * k / n) for k in range(n)]
    return [(a, b) for a, b in zip(starts, [*starts[1:], None], strict=True)]


class ParallelExtractor:
    """``workers`` processes with one live Holistic graph each; reuse it for many videos.

    ``workers=1`` keeps one graph in this process instead (no worker processes: for scripts that
    cannot be re-imported by spawned workers, i.e. without an ``if __name__ == "__main__":`` guard).
    """

    def __init__(self, config: HolisticConfig | None = None, workers: int = 0, warmup: int = 8, min_frames: int = 40):
        self.config = config or HolisticConfig()
        self.workers = workers or os.cpu_count() or 1
        self.warmup = warmup
        self.min_frames = min_frames
        self._pool: ProcessPoolExecutor | None = None
        self._frames_done = None  # the workers' progress queue
        self._local: HolisticExtractor | None = None
        self._aborted = False
        self._lock = threading.Lock()  # start() and abort() from different threads

    def start(self) -> ParallelExtractor:
        """Spawn the workers and build their graphs now (else on the first video)."""
        with self._lock:
            if self._aborted:
                raise RuntimeError("the pose extractor was aborted")
            if self._local is None and self._pool is None:  # a missing backend in one line; the bundle built here
                self.config = prepared(self.config)
            if self.workers == 1:
                if self._local is None:
                    with quiet_mediapipe():
                        self._local = HolisticExtractor(self.config)
                return self
            if self._pool is None:
                # spawn, as in pose.batch: no fork of a process that has MediaPipe loaded
                ctx = mp.get_context("spawn")
                self._frames_done = ctx.Queue()
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=ctx, initializer=_init_worker, initargs=(self.config, self._frames_done)
                )
            pool = self._pool
        for f in [pool.submit(_warm) for _ in range(self.workers)]:
            f.result()
        return self

    def extract(
        self,
        path: str | os.PathLike,
        video: VideoConfig | None = None,
        on_frame: Callable[[int, int], None] | None = None,
    ) -> Pose:
        """The video's poses. ``on_frame(done, total)``: called as frames are done (in this thread),
        ``total`` the container's estimate of the frames; one extraction at a time per extractor."""
        video = video or VideoConfig()
        done = [0]

        def count(n: int) -> None:
            done[0] += n
            on_frame(done[0], max(total, done[0]))

        if self.workers == 1 and on_frame is None:
            self.start()
            with quiet_mediapipe():
                return self._local.process_video(path, video)
        # probes: bad files fail here, at once
        stream = VideoStream(path, video.backend, video.target_fps, video.frames_fps)
        total = stream.estimated_frames
        if self.workers == 1:
            self.start()
            with quiet_mediapipe():
                pose = self._local.process_video(path, video, on_frame=count)
            on_frame(len(pose.body.data), len(pose.body.data))  # the exact count (the container's was an estimate)
            return pose
        bounds = chunk_bounds(total, self.workers, self.min_frames)
        pool, frames_done = self.start()._pool, self._frames_done
        if pool is None:  # aborted meanwhile
            raise RuntimeError("the pose extractor was aborted")
        report = on_frame is not None
        if report:
            self._drain(frames_done, lambda n: None)  # counts left by an extraction that failed midway
        futures = [pool.submit(_chunk, str(path), video, a, b, self.warmup, report) for a, b in bounds]
        while report:
            finished, running = wait(futures, timeout=0.2, return_when=FIRST_EXCEPTION)
            self._drain(frames_done, count)
            if not running or any(f.exception() for f in finished):
                break
        parts = [f.result() for f in futures]
        data = [d for part in parts for d in part[0]]
        conf = [c for part in parts for c in part[1]]
        if report:  # the exact count at the end: a worker's last counts may still be on their way
            on_frame(len(data), len(data))
        fps, width, height = parts[0][2:]
        return build_pose(data, conf, fps, width, height, self.config, str(Path(path)))

    @staticmethod
    def _drain(frames_done, count: Callable[[int], None]) -> None:
        while True:
            try:
                count(frames_done.get_nowait())
            except queue.Empty:
                return

    def abort(self) -> None:
        """Stop now: kill the worker processes (an extraction under way fails with BrokenProcessPool
        instead of finishing) and refuse further work. For a caller that no longer wants the
        result, e.g. a translator whose model failed to load while a video was being prefetched.
        A single in-process graph (``workers=1``) cannot be interrupted: its video is finished."""
        with self._lock:
            self._aborted = True
            pool, self._pool = self._pool, None
        if pool is not None:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        if self._local is not None:
            self._local.close()
            self._local = None
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ParallelExtractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def landmark_difference(a: Pose, b: Pose) -> np.ndarray:
    """Per-frame mean pixel distance between two poses' points found in both ``(T,)``."""
    da, db = a.body.data.data[:, 0, :, :2], b.body.data.data[:, 0, :, :2]
    both = (a.body.confidence[:, 0] > 0) & (b.body.confidence[:, 0] > 0)
    dist = np.linalg.norm(da - db, axis=-1)
    return np.array([dist[t][both[t]].mean() if both[t].any() else 0.0 for t in range(len(dist))])
