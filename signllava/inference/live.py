"""Translating signing as it happens: ``signllava live`` on a camera, a network stream or a video file.

Frames flow through three threads joined by queues, so that the source is never held up:

- the reader (:class:`~signllava.inference.live_source.FrameReader`) decodes the source, times each
  frame by the source's clock, resamples to the model's frame rate, and queues it; when the queue
  is full (the machine is behind real time) a live source's frame is dropped and counted;
- the pose thread runs MediaPipe Holistic on each frame (VIDEO mode, stamped at the frame's step
  of the source's clock: :meth:`pose.holistic.HolisticExtractor.process_at`), fills a dropped
  frame's place with the nearest frame it has (as resampling does), and feeds the landmarks to
  :class:`~signllava.inference.segment.OnlineSegmenter`, which closes a sentence at a pause in the
  hands' motion or at the maximum length, with ``translate``'s settings;
- the translation thread computes each closed segment's streams the way ``translate`` does
  (:meth:`~signllava.inference.translator.Translator.clip_features`) and translates it with the
  previous outputs as context (:meth:`~signllava.inference.translator.Translator.translate_clip`),
  and hands the timed text to ``on_cue``.

A segment's latency is the time from its end in the source (when the source delivered its last
frame) to its text. :meth:`LivePipeline.stop` (Ctrl-C) stops reading; the frames already queued are
still processed, the segment in progress is closed and translated, and :meth:`LivePipeline.wait`
returns the :class:`LiveReport`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody

from pose.errors import InputError

from .hands import hand_found, share_found
from .live_source import FrameReader, Source, open_reader
from .segment import OnlineSegmenter
from .subtitles import Segment
from .timings import Timings


@dataclass
class LiveConfig:
    """How ``signllava live`` runs."""

    realtime: bool = False  # a video file: play it at its own pace (else as fast as it can)
    timeout: float = 10.0  # seconds to wait for a stream to start, and then for each frame
    queue_seconds: float = 0.5  # frames waiting for the pose graph, in seconds of video, before any is dropped
    num_beams: int = 5
    max_new_tokens: int = 100
    max_context: int = 2  # previous outputs given as context
    context: tuple[str, ...] = ()  # text before the first segment

    def __post_init__(self):
        if not 0 < self.timeout <= 3600:
            raise InputError(None, f"--timeout must be in (0, 3600] seconds, got {self.timeout:g}")
        if not 0 < self.queue_seconds <= 60:
            raise InputError(None, f"queue_seconds must be in (0, 60], got {self.queue_seconds:g}")
        if self.num_beams < 1 or self.max_new_tokens < 1:
            raise InputError(None, f"beam size and max_new_tokens must be >= 1, got {self.num_beams}")


@dataclass(frozen=True)
class LiveCue:
    """One translated segment as it comes out: ``number`` from 1; ``latency``: seconds from the
    segment's end in the source to its text, of which ``translation`` its streams and text took and
    ``waited`` it waited for the translation of the segments before it (the rest: until its end was
    certain, after the frames queued before the pose graph)."""

    segment: Segment
    number: int
    latency: float
    translation: float
    waited: float = 0.0

    def extra(self) -> dict:
        """What a JSON line adds to the segment."""
        return {"latency": round(self.latency, 3)}


@dataclass
class LiveReport:
    """What a run did: frames at the model's frame rate that the source delivered, how many were
    dropped, the cues, and why the source ended early (``error``; None: it ended or was stopped)."""

    source: str
    fps: float
    frames: int = 0
    dropped: int = 0
    cues: list[LiveCue] = field(default_factory=list)
    seconds: float = 0.0  # wall time from the first frame to the last text
    error: str | None = None
    stopped: bool = False  # by stop() (Ctrl-C)

    @property
    def latencies(self) -> np.ndarray:
        return np.array([c.latency for c in self.cues])

    def summary(self) -> str:
        dropped = f"{self.dropped} dropped ({100 * self.dropped / max(self.frames, 1):.1f} %)"
        video = f"{self.frames} frames ({self.frames / self.fps:.1f} s of video)"
        line = f"live: {video}, {dropped}, {len(self.cues)} segments"
        if self.cues:
            lat = self.latencies
            line += f"; latency median {np.median(lat):.2f} s, 90th percentile {np.percentile(lat, 90):.2f} s"
        return line


class LivePipeline:
    """One source through poses, the online segmenter and the model: :meth:`start`, then :meth:`wait`
    (or :meth:`stop`, then :meth:`wait`). ``source``: a :class:`FrameReader` (opened by
    :func:`~signllava.inference.live_source.open_reader` before the model loads, so that a bad source
    fails first and a live one is kept drained meanwhile), or a :class:`Source` or what names one
    (opened here). ``on_cue(cue)``: called from the translation thread with each :class:`LiveCue`, in
    order; ``on_frame(rgb, data, conf, slot)``: from the pose thread with each processed frame and its
    landmarks (``--show``, progress)."""

    def __init__(
        self,
        translator,
        source: FrameReader | Source | str,
        config: LiveConfig | None = None,
        on_cue: Callable[[LiveCue], None] | None = None,
        on_frame: Callable[[np.ndarray, np.ndarray, np.ndarray, int], None] | None = None,
    ):
        self.translator = translator
        self.config = config or LiveConfig()
        self.reader = source if isinstance(source, FrameReader) else open_reader(source, self.config.timeout)
        self.source = self.reader.source
        self.on_cue = on_cue
        self.on_frame = on_frame
        self.fps = float(translator.target_fps or 25.0)
        self.report = LiveReport(self.source.name, self.fps)
        self._segments: queue.Queue = queue.Queue()  # closed segments for the translation thread (never full)
        self._failure: BaseException | None = None
        self._done = threading.Event()
        self._graph_ready = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = 0.0
        self._slots: _Slots | None = None  # the pose thread's, from its first frame

    # --- control ---------------------------------------------------------------------------------

    def start(self) -> LivePipeline:
        """Build the pose graph, warm the model up, then let frames flow."""
        from pose.holistic import prepared, quiet_mediapipe

        with quiet_mediapipe():
            self.holistic = prepared(self.translator.holistic)  # a backend that cannot run: one line, now
        self._warm_up()
        for name, target in (("live-poses", self._poses), ("live-translate", self._translate)):
            thread = threading.Thread(target=self._guarded(target), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self._graph_ready.wait()  # (or the pose thread failed: wait() says why)
        self._started = time.monotonic()
        cfg, live = self.config, self.source.live
        depth = max(1, round(cfg.queue_seconds * self.fps))
        pace = cfg.realtime and not live
        self.reader.go(self.fps, depth, block=not live and not pace, pace=pace)
        return self

    def stop(self) -> None:
        """Stop reading the source; what is queued is still processed and the open segment translated."""
        self.report.stopped = True
        self.reader.stop()

    def wait(self, timeout: float | None = None) -> LiveReport | None:
        """The report once the run is over (None if ``timeout`` seconds pass first). A failure inside
        the pipeline (not the source's: that is the report's ``error``) is raised here."""
        if not self._done.wait(timeout):
            return None
        if self._failure is not None:
            raise self._failure
        return self.report

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def _guarded(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as err:  # handed to wait(); the rest of the pipeline winds down
                if self._failure is None:
                    self._failure = err
                self._graph_ready.set()
                self.reader.stop()
                self._segments.put(None)
                self._done.set()

        return run

    def _warm_up(self) -> None:
        """One tiny translation first, so the first segment's latency is not the model's first call."""
        from pose.holistic import holistic_header

        header = holistic_header(64, 64, self.translator.holistic)
        points = header.total_points()
        pose = _pose(header, [np.zeros((points, 3), np.float32)] * 4, [np.zeros(points, np.float32)] * 4, self.fps)
        self.translator.translate_clip(self.translator.clip_features(pose, self._blank(4)), (), "warm-up", 1, 2)
        self.translator.timings = Timings()  # the run's own from here

    def _blank(self, n: int) -> np.ndarray | None:
        return np.zeros((n, 64, 64, 3), np.uint8) if self.translator.reads_video else None

    # --- the pose thread -------------------------------------------------------------------------

    def _poses(self) -> None:
        import av

        from pose.holistic import HolisticExtractor, quiet_mediapipe

        reformatter = av.video.reformatter.VideoReformatter()
        # MediaPipe's threads log as they please (also after the graph is made): muted for the whole run
        with quiet_mediapipe(), HolisticExtractor(self.holistic) as extractor:
            self._graph_ready.set()
            while (item := self._next_frame()) is not None:
                rgb = reformatter.reformat(item.image, format="rgb24").to_ndarray()
                data, conf = extractor.process_at(rgb, item.step, rgb.shape[1], rgb.shape[0])
                self._landmarks_in(item, rgb, data, conf)
        if self._slots is not None:
            self._slots.finish(len(self.reader.arrival))
        self.report.frames = len(self.reader.arrival)
        self.report.dropped = self.reader.dropped
        self.report.error = self.reader.error
        self._segments.put(None)

    def _next_frame(self):
        """The next frame from the reader; None at the end, or once stopped and nothing is left (a reader
        waiting on a silent stream does not hold up the end)."""
        while True:
            try:
                return self.reader.frames.get(timeout=0.1)
            except queue.Empty:
                if self.reader.stopped:
                    return None

    def _landmarks_in(self, frame, rgb: np.ndarray, data: np.ndarray, conf: np.ndarray) -> None:
        """A frame's landmarks, in the frames' order: into its slots and the segmenter, and to ``on_frame``."""
        data, conf = self.landmarks(frame, rgb, data, conf)
        if self._slots is None:
            self._slots = _Slots(self, rgb.shape[1], rgb.shape[0])
        self._slots.fill(frame.first, frame.last, rgb, data, conf)
        if self.on_frame is not None:
            self.on_frame(rgb, data, conf, frame.last - 1)

    def landmarks(self, frame, rgb: np.ndarray, data: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The landmarks the pipeline goes on with for a frame, given MediaPipe's ``(P, 3)`` points and ``(P,)``
        confidences: those (a subclass may put others in their place)."""
        return data, conf

    # --- the translation thread ------------------------------------------------------------------

    def _translate(self) -> None:
        cfg, translator = self.config, self.translator
        previous = list(cfg.context)
        while True:
            job = self._segments.get()
            if job is None:
                break
            first, last, pose, clip, closed = job
            start = time.perf_counter()
            waited = time.monotonic() - closed
            streams = translator.clip_features(pose, clip, self.source.name)
            name = f"live@{first}"
            text, glosses = translator.translate_clip(
                streams, previous, name, cfg.num_beams, cfg.max_new_tokens, cfg.max_context
            )
            now = time.monotonic()
            if text:
                previous.append(text)
            found = share_found(hand_found(pose))
            segment = Segment(first / self.fps, last / self.fps, text, glosses, found)
            ended = self.reader.arrival[last - 1]  # when the source delivered the segment's last frame
            cue = LiveCue(segment, len(self.report.cues) + 1, now - ended, time.perf_counter() - start, waited)
            self.report.cues.append(cue)
            self.report.seconds = now - self._started
            if self.on_cue is not None:
                self.on_cue(cue)
        self._done.set()


class _Slots:
    """The pose thread's frames at the model's frame rate since the last cut: landmarks per slot (and RGB
    frames where the model reads video), fed to the online segmenter; closed segments go to the
    translation thread."""

    def __init__(self, pipeline: LivePipeline, width: int, height: int):
        from pose.holistic import holistic_header

        self.pipeline = pipeline
        self.header = holistic_header(width, height, pipeline.translator.holistic)
        self.segmenter = OnlineSegmenter(self.header, pipeline.fps, pipeline.translator.segments)
        self.keep_frames = pipeline.translator.reads_video
        self.base = 0  # the slot of the first frame held
        self.data: list[np.ndarray] = []
        self.conf: list[np.ndarray] = []
        self.frames: list[np.ndarray] = []
        self._last: tuple | None = None  # the last slot's landmarks and frame

    def fill(self, first: int, last: int, rgb: np.ndarray, data: np.ndarray, conf: np.ndarray) -> None:
        """A processed frame for slots ``first``..``last - 1``; slots dropped before it (from the last
        one filled) get the nearer of the frame before them and this one, as nearest-frame resampling."""
        filled = self.base + len(self.data)
        for slot in range(filled, last):
            new = slot >= first or self._last is None or slot - (filled - 1) > first - slot
            self._push(*((data, conf, rgb) if new else self._last))

    def finish(self, total: int) -> None:
        """The stream ended after ``total`` slots: the last ones, dropped, get the last frame processed."""
        while self._last is not None and self.base + len(self.data) < total:
            self._push(*self._last)
        for span in self.segmenter.finish():
            self._close(*span)

    def _push(self, data: np.ndarray, conf: np.ndarray, rgb: np.ndarray | None) -> None:
        self._last = (data, conf, rgb)
        self.data.append(data)
        self.conf.append(conf)
        if self.keep_frames:
            self.frames.append(rgb)
        for span in self.segmenter.push(data, conf):
            self._close(*span)

    def _close(self, first: int, last: int) -> None:
        """Hand segment ``[first, last)`` to the translation thread and forget its frames."""
        a, b = first - self.base, last - self.base
        pose = _pose(self.header, self.data[a:b], self.conf[a:b], self.pipeline.fps)
        clip = np.stack(self.frames[a:b]) if self.keep_frames else None
        self.pipeline._segments.put((first, last, pose, clip, time.monotonic()))
        del self.data[:b], self.conf[:b], self.frames[:b]
        self.base = last


def _pose(header, data: list[np.ndarray], conf: list[np.ndarray], fps: float) -> Pose:
    """A segment's frames as a Pose (no warning when nobody is in them: that is the hands check's to say)."""
    body = NumPyPoseBody(fps=fps, data=np.stack(data)[:, None], confidence=np.stack(conf)[:, None])
    return Pose(header, body)
