"""Where ``signllava live`` reads its frames: a camera, a network stream, or a video file, decoded on a
reader thread that the rest of the pipeline never blocks.

A source is named as a camera (``0``, ``/dev/video0``), a URL FFmpeg reads (``rtsp://``, ``udp://``,
``srt://``, ``http://`` ...) or a video file. :func:`open_source` opens it (every failure one line:
:class:`~pose.errors.InputError`), and a :class:`FrameReader` decodes it on its own thread into a
bounded queue. Each decoded frame is timed by the source's own clock (its presentation time) and
resampled to the model's frame rate by nearest frame, as :func:`pose.video.resample_plan` resamples
a video offline: a frame covers the output frames ("slots") whose time is nearest to it. When the
queue is full (the rest of the pipeline is behind real time) a live source's frame is dropped and
counted; a file read as fast as possible waits instead, and one read with ``realtime`` is paced by
its timestamps and dropped like a live source.
"""

from __future__ import annotations

import math
import os
import queue
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from pose.errors import InputError
from pose.video import resample_plan

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "udp", "rtp", "srt", "tcp", "http", "https", "hls", "file")
RESTART_AFTER_S = 10.0  # a jump in the source's clock longer than this (or backwards) restarts it


class FramesDroppedWarning(UserWarning):
    """The pipeline fell behind real time and began dropping frames (said once per run)."""


@dataclass(frozen=True)
class Source:
    """A source as given (``name``) and how FFmpeg opens it: ``url`` with demuxer ``format``."""

    name: str
    kind: str  # camera, stream or file
    url: str
    format: str | None = None

    @property
    def live(self) -> bool:
        """Frames come at the source's pace whether read or not (a camera or a stream)."""
        return self.kind != "file"


def parse_source(text: str) -> Source:
    """What ``text`` names: a camera number or device, a stream URL, or a video file (which must exist)."""
    text = str(text).strip()
    if not text:
        raise InputError(None, "the source is empty: give a camera (0, /dev/video0), a stream URL or a video file")
    if text.isdigit() or text.startswith("/dev/video"):
        return _camera(text)
    scheme, sep, _ = text.partition("://")
    if sep:
        if scheme.lower() not in STREAM_SCHEMES:
            raise InputError(text, f"unknown stream scheme {scheme}://; live reads {', '.join(STREAM_SCHEMES)}")
        return Source(text, "stream", text)
    path = Path(text)
    if not path.exists():
        raise InputError(path, "file not found (a camera is a number or /dev/videoN, a stream a URL)")
    if path.is_dir():
        raise InputError(path, "a folder: live reads one camera, stream or video file")
    if path.suffix == ".pose":
        raise InputError(path, "a .pose file: live reads video (translate reads .pose files)")
    from pose.video import probe

    probe(path)  # an empty, junk or truncated file is refused as translate refuses it
    return Source(text, "file", str(path))


def _camera(text: str) -> Source:
    index = text if text.isdigit() else text.removeprefix("/dev/video")
    if sys.platform == "darwin":
        return Source(text, "camera", index if text.isdigit() else text, "avfoundation")
    if sys.platform.startswith("win"):
        return Source(text, "camera", f"video={text}", "dshow")
    device = f"/dev/video{index}" if text.isdigit() else text
    if not os.path.exists(device):
        raise InputError(text, f"no such camera ({device} does not exist)")
    return Source(text, "camera", device, "v4l2")


def open_source(source: Source, timeout: float):
    """The source opened with PyAV, its video stream found; ``timeout``: seconds to wait for a stream
    to start, and later for each frame (a stream that stops sending ends with an error)."""
    import av

    options = {}
    if source.url.startswith("udp://"):
        options = {"overrun_nonfatal": "1", "fifo_size": "1000000"}  # a late reader loses packets, not the stream
    try:
        container = av.open(source.url, format=source.format, options=options, timeout=(timeout, timeout))
    except av.error.ExitError:
        problem = f"nothing arrived within {timeout:g} s (--timeout): the stream never started"
        raise InputError(source.name, problem) from None
    except Exception as err:
        raise InputError(source.name, f"cannot open it ({_first_line(err)})") from err
    if not container.streams.video:
        container.close()
        raise InputError(source.name, "no video stream in it")
    return container


def _first_line(err: BaseException) -> str:
    """The error's own words: FFmpeg's message without its number and the URL it repeats."""
    text = getattr(err, "strerror", None) or str(err)
    return (text.strip().splitlines() or [type(err).__name__])[0]


def source_fps(container) -> float | None:
    """The video stream's nominal frame rate, or None where the container does not say."""
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else float("nan")
    return fps if math.isfinite(fps) and 0 < fps <= 1000 else None


@dataclass
class Frame:
    """One decoded frame for the pipeline: ``image`` (an ``av.VideoFrame``), the output frames (slots
    at the model's frame rate) ``first``..``last - 1`` it stands for, and ``step``: its place in the
    source's clock counted in kept frames (dropped ones included), for the pose graph's timestamps."""

    image: object
    first: int
    last: int
    step: int


class FrameReader:
    """Decodes an opened source on a daemon thread into :attr:`frames` (a queue of :class:`Frame`, then
    ``None`` at the end). A live source is read from the start, its frames discarded until :meth:`go`
    (so that it is kept drained while the model loads); a file is read from :meth:`go` on.
    :attr:`arrival` holds when each slot arrived (``time.monotonic()``), dropped ones included;
    :attr:`error` says why the source ended early (None: it ended, or was stopped)."""

    def __init__(self, source: Source, container, timeout: float = 10.0):
        self.source = source
        self.container = container
        self.timeout = timeout
        self.fps = source_fps(container)
        self.frames: queue.Queue = queue.Queue()
        self.arrival: list[float] = []  # per slot
        self.decoded = 0  # source frames, once counting
        self.dropped = 0  # slots dropped for want of room
        self.error: str | None = None
        self._go = threading.Event()  # frames count from now on
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-reader", daemon=True)
        self._next_slot = 0  # the first slot no frame has covered yet
        self._step = 0
        self._last_index: int | None = None
        self._origin: float | None = None  # source time of slot 0
        self._wall0: float | None = None
        if source.live:
            self._thread.start()

    def go(self, target_fps: float, depth: int, block: bool = False, pace: bool = False) -> None:
        """Frames count from now on, resampled to ``target_fps``; ``depth``: frames the queue holds;
        ``block``: wait for room (a file read as fast as possible) instead of dropping; ``pace``: play at
        the source's timestamps (a file in real time)."""
        self.target_fps = float(target_fps)
        self.fps = self.fps or self.target_fps
        _, self._repeat = resample_plan(self.fps, self.target_fps)
        self.block, self.pace = block, pace
        with self.frames.mutex:
            self.frames.maxsize = max(1, depth)
        self._go.set()
        if not self._thread.is_alive() and not self.source.live:
            self._thread.start()

    def stop(self) -> None:
        """Stop reading (the queue gets its end once the reader notices: at its next frame, or the timeout)."""
        self._stop.set()
        self._go.set()  # a reader still discarding notices now

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def close(self) -> None:
        """Give the source back unread (a run that never started)."""
        self.stop()
        if not self._thread.is_alive() and not self.source.live:
            self.container.close()

    # --- the reader thread -------------------------------------------------------------------------

    def _run(self) -> None:
        import av

        stream = self.container.streams.video[0]
        stream.thread_type = "AUTO" if not self.source.live else "SLICE"  # a live stream: no frame delay
        try:
            for packet in self.container.demux(stream):
                for image in packet.decode():
                    if self._stop.is_set():
                        return
                    self._take(image)
                if self._stop.is_set():
                    return
        except av.error.ExitError:
            if not self._stop.is_set():
                self.error = f"no frame for {self.timeout:g} s (--timeout): the stream stopped"
        except Exception as err:  # a broken stream mid-way: the frames so far still count
            if not self._stop.is_set():
                self.error = f"the stream broke off ({_first_line(err)})"
        finally:
            if self.decoded == 0 and self.error is None and not self._stop.is_set():
                self.error = "no frame in it"
            self._put_end()
            try:
                self.container.close()
            except Exception:  # closing a broken stream may fail again: it is gone either way
                pass

    def _take(self, image) -> None:
        """Time one decoded frame, pace it, and queue (or drop) it for the slots it covers."""
        if not self._go.is_set() or self._stop.is_set():
            return  # a live source before the pipeline is ready: kept drained, not counted
        now = time.monotonic()
        t = image.time if image.time is not None else now - (self._wall0 or now)
        if self._origin is None:
            self._origin, self._wall0 = t, now
        index = round((t - self._origin) * self.fps)
        if self._last_index is not None and not -1 < index - self._last_index <= RESTART_AFTER_S * self.fps:
            # the clock jumped (a new stream, wrapped timestamps): go on from the next slot
            index = round(self._next_slot * self.fps / self.target_fps)
            self._origin, self._wall0 = t - index / self.fps, now - index / self.fps
            self._last_index = index - 1
        self.decoded += 1
        first, last = self._slots(index)
        if first >= last:
            return  # resampled away (a faster source), or a repeat of the last index
        if self._last_index is not None:  # kept frames the source lost in between still take their steps
            self._step += sum(1 for i in range(self._last_index + 1, index) if self._repeat(i) > 0)
        self._last_index = index
        if self.pace:
            wait = self._wall0 + (t - self._origin) - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            now = time.monotonic()
        self.arrival.extend([now] * (last - len(self.arrival)))  # slots the source skipped arrive with it
        frame = Frame(image, first, last, self._step)
        self._step += 1
        self._next_slot = last
        if self.block:
            while not self._stop.is_set():
                try:
                    self.frames.put(frame, timeout=0.1)
                    break
                except queue.Full:
                    continue
        else:
            try:
                self.frames.put_nowait(frame)
            except queue.Full:
                if not self.dropped:
                    warnings.warn(
                        f"{self.source.name}: behind real time, dropping frames (counted in the summary)",
                        FramesDroppedWarning,
                        stacklevel=2,
                    )
                self.dropped += last - first

    def _slots(self, index: int) -> tuple[int, int]:
        """The slots source frame ``index`` covers: those whose nearest frame it is (as resample_plan), from
        the first not yet covered (a frame the source skipped leaves its slots to the next one)."""
        last = math.ceil((index + 0.5) / (self.fps / self.target_fps))  # resample_plan's arithmetic
        return self._next_slot, max(self._next_slot, last)

    def _put_end(self) -> None:
        while True:
            try:
                self.frames.put(None, timeout=0.1)
                return
            except queue.Full:
                if self._stop.is_set():  # nobody is taking: make room for the end
                    try:
                        self.frames.get_nowait()
                    except queue.Empty:
                        pass


def open_reader(source: Source | str, timeout: float) -> FrameReader:
    """A :class:`FrameReader` on a source named as :func:`parse_source` reads it (opened at once: a bad
    one fails here, as one line)."""
    source = source if isinstance(source, Source) else parse_source(source)
    return FrameReader(source, open_source(source, timeout), timeout)
