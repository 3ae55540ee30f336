"""Splitting a long signing video into sentence-sized segments, from the pose alone.

Signers pause between sentences: the hands slow down (and often drop). A frame's motion is the
mean speed of the wrists and hand points, in shoulder widths per second; segments end in the
middle of pauses (runs of low motion at least ``min_pause`` long), and a stretch without pauses
longer than ``max_seconds`` is cut at its quietest frame, falling back to fixed windows when the
pose gives nothing to go by (no hands found).

:func:`segment` cuts a whole pose; :class:`OnlineSegmenter` makes the same cuts on frames as they
arrive (``signllava live``), each as soon as no later frame can move it, with the same settings and
the same steps (the motion of a frame, its smoothing, the pauses, the length rules). Where the two
differ: a pause that has lasted ``close_after`` seconds closes the segment at once, in the middle of
the pause so far (offline waits for the pause to end and cuts in its middle); a video of at most
``max_seconds`` is one segment offline, while live cannot know the stream will be that short; and a
last segment under ``min_seconds`` joins the previous one offline, while live has translated that
one already.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pose_format import Pose
from pose_format.pose_header import PoseHeader

from pose.features import L_SHOULDER, R_SHOULDER, SIGNING_SPACE, component, signing_space

HANDS = ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
WRISTS = slice(15, 17)  # of the body's points: found even when a hand is not


@dataclass
class SegmentConfig:
    """How a long video is cut into sentences."""

    max_seconds: float = 10.0  # no segment longer than this
    min_seconds: float = 1.0  # no segment shorter than this (merged into a neighbour)
    min_pause: float = 0.3  # seconds of low motion that count as a pause
    pause_speed: float = 0.5  # shoulder widths per second below which the hands count as still
    # live only (OnlineSegmenter): a pause this long closes the segment without waiting for the pause to end
    close_after: float = 1.0

    def frames(self, fps: float) -> tuple[int, int, int]:
        """``(max_len, min_len, smoothing window)`` in frames at ``fps``."""
        return max(1, int(self.max_seconds * fps)), int(self.min_seconds * fps), max(1, int(0.2 * fps))


def _frame_steps(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Mean motion from each frame to the next ``(T-1,)`` in pixels, over the parts' points found in
    both frames, averaged over the parts that have one (0 where none has)."""
    speeds = []
    for xyz, found in parts:
        step = np.linalg.norm(np.diff(xyz[..., :2], axis=0), axis=-1)  # (T-1, N)
        both = found[1:] & found[:-1]
        n = both.sum(1)
        speeds.append(np.where(n > 0, (step * both).sum(1) / np.maximum(n, 1), np.nan))
    stack = np.stack(speeds)
    known = ~np.isnan(stack)
    count = known.sum(0)  # np.nanmean's arithmetic, without its warning for a frame where nothing moved
    return np.where(count > 0, np.where(known, stack, 0).sum(0) / np.maximum(count, 1), 0.0)


def _shoulder_width(body: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: shoulder width in pixels (as :func:`pose.features.signing_space` measures it) and
    whether it is known."""
    size = SIGNING_SPACE * np.linalg.norm(body[:, L_SHOULDER, :2] - body[:, R_SHOULDER, :2], axis=-1)
    valid = found[:, L_SHOULDER] & found[:, R_SHOULDER] & (size > 0)
    return np.where(valid, size, 1.0) / 1.5, valid


def hand_speed(pose: Pose) -> np.ndarray:
    """Per-frame mean hand speed ``(T,)`` in shoulder widths per second (0 where nothing is found)."""
    fps = float(pose.body.fps)
    parts = [component(pose, name) for name in HANDS]
    body, body_found = component(pose, "POSE_LANDMARKS")
    parts.append((body[:, WRISTS], body_found[:, WRISTS]))
    _, size, valid = signing_space(pose)
    scale = np.where(valid, size / 1.5, np.nan)  # shoulder width in pixels
    scale = np.where(np.isnan(scale), np.nanmedian(scale) if valid.any() else 1.0, scale)
    speed = _frame_steps(parts) if len(pose.body.data) > 1 else np.zeros(0)
    return np.concatenate([[0.0], speed]) * fps / scale


def smooth_speed(speed: np.ndarray, window: int) -> np.ndarray:
    """The speed averaged over ``window`` frames around each frame (zeros beyond the ends)."""
    return np.convolve(speed, np.ones(window) / window, mode="same")


def pauses(still: np.ndarray, start: int = 0) -> list[tuple[int, int]]:
    """The runs ``[i, j)`` of still frames in ``still`` (indices offset by ``start``)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], still, [False]]).astype(np.int8)))
    return [(start + int(i), start + int(j)) for i, j in zip(edges[::2], edges[1::2], strict=True)]


def pause_cut(i: int, j: int, total: int | None, fps: float, config: SegmentConfig) -> int | None:
    """Where the pause ``[i, j)`` cuts (its middle), or None: too short, or touching either end of
    the video (``total`` None: the end is not known yet)."""
    if (j - i) >= config.min_pause * fps and 0 < i and (total is None or j < total):
        return (i + j) // 2
    return None


def forced_cut(start: int, smooth: np.ndarray, max_len: int, min_len: int) -> int:
    """Where a stretch from ``start`` with no pause within ``max_len`` frames is cut: its quietest
    frame between ``min_len`` and ``max_len`` frames in (``smooth`` indexed from frame 0)."""
    lo, hi = start + max(min_len, 1), start + max_len
    return lo + int(np.argmin(smooth[lo:hi])) if hi > lo else start + max_len


def segment(pose: Pose, config: SegmentConfig | None = None) -> list[tuple[int, int]]:
    """Frame ranges ``[(start, end), ...]`` covering the pose, cut at pauses."""
    config = config or SegmentConfig()
    fps = float(pose.body.fps)
    total = len(pose.body.data)
    if total == 0:
        return []
    max_len, min_len, window = config.frames(fps)
    if total <= max_len:
        return [(0, total)]
    smooth = smooth_speed(hand_speed(pose), window)
    cuts = [c for i, j in pauses(smooth < config.pause_speed) if (c := pause_cut(i, j, total, fps, config))]
    bounds = _enforce(sorted(set(cuts)), total, smooth, max_len, min_len)
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _enforce(cuts: list[int], total: int, smooth: np.ndarray, max_len: int, min_len: int) -> list[int]:
    out = [0]
    for end in [*cuts, total]:
        start = out[-1]
        while end - start > max_len:  # too long: cut at the quietest frame of the allowed window
            start = forced_cut(start, smooth, max_len, min_len)
            out.append(start)
        if end - start >= min_len or end == total:
            out.append(end)
    if len(out) > 2 and out[-1] - out[-2] < min_len:  # a short tail joins the previous segment
        out.pop(-2)
    return out


class OnlineSegmenter:
    """:func:`segment`'s cuts on frames as they arrive: :meth:`push` each frame's landmarks (the
    layout of ``header``: ``(P, 3)`` points and ``(P,)`` confidences), and it returns the segments
    that frame closed; :meth:`finish` closes the rest at the end of the stream. A cut is made as
    soon as no later frame can move it: a pause's once the pause ends (the smoothing looks
    ``window // 2`` frames ahead) or has lasted ``close_after``; a forced one once no pause can come
    within ``max_seconds``."""

    def __init__(self, header: PoseHeader, fps: float, config: SegmentConfig | None = None):
        self.config = config or SegmentConfig()
        self.fps = float(fps)
        self.max_len, self.min_len, self.window = self.config.frames(self.fps)
        self.ahead = (self.window - 1) // 2  # frames of look-ahead in smooth_speed's window
        self.close_len = (
            max(1, math.ceil(self.config.close_after * self.fps)) if math.isfinite(self.config.close_after) else None
        )
        offsets, at = {}, 0
        for c in header.components:
            offsets[c.name] = (at, at + len(c.points))
            at += len(c.points)
        self._slices = [slice(*offsets[name]) for name in HANDS]
        self._body = slice(*offsets["POSE_LANDMARKS"])
        self._previous: tuple | None = None  # the last frame's parts
        self._widths: list[float] = []  # known shoulder widths, for frames where they are not
        self.speed: list[float] = []
        self.smooth: list[float] = []  # final values: frames whose whole window has arrived
        self.start = 0  # the open segment's first frame
        self._run: int | None = None  # where the pause in progress began
        self._run_cut = False  # it has closed a segment already (close_after)

    @property
    def frames(self) -> int:
        """Frames pushed so far."""
        return len(self.speed)

    def _parts(self, data: np.ndarray, conf: np.ndarray) -> tuple[list, tuple[np.ndarray, np.ndarray]]:
        """The frame's moving parts as :func:`hand_speed` takes them (one frame each), and its body."""
        found = conf > 0
        body, body_found = data[None, self._body, :3], found[None, self._body]
        hands = [(data[None, s, :3], found[None, s]) for s in self._slices]
        return [*hands, (body[:, WRISTS], body_found[:, WRISTS])], (body, body_found)

    def push(self, data: np.ndarray, conf: np.ndarray) -> list[tuple[int, int]]:
        """Add the next frame; the segments ``[(start, end)]`` it closed (usually none)."""
        parts, body = self._parts(np.asarray(data, np.float32), np.asarray(conf))
        width, known = _shoulder_width(*body)
        if known[0]:
            self._widths.append(float(width[0]))
        scale = float(width[0]) if known[0] else (float(np.median(self._widths)) if self._widths else 1.0)
        if self._previous is None:
            step = 0.0
        else:
            pairs = zip(self._previous, parts, strict=True)
            both = [(np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]])) for a, b in pairs]
            step = float(_frame_steps(both)[0])
        self._previous = parts
        self.speed.append(step * self.fps / scale)
        return self._advance(len(self.speed) - self.ahead, None)

    def finish(self) -> list[tuple[int, int]]:
        """The stream ended: the segments still open, up to its last frame."""
        total = len(self.speed)
        if total == 0:
            return []
        closed = self._advance(total, total)
        forced = 0
        while total - self.start > self.max_len:
            closed.append(self._cut(forced_cut(self.start, np.asarray(self.smooth), self.max_len, self.min_len)))
            forced += 1
        if total > self.start:
            closed.append(self._cut(total))
        if forced and closed[-1][1] - closed[-1][0] < self.min_len:  # a short tail joins the segment before it,
            (first, _), (_, last) = closed[-2:]  # where that one is not out yet (else it stays a segment of its own)
            closed[-2:] = [(first, last)]
        return closed

    def _advance(self, final: int, total: int | None) -> list[tuple[int, int]]:
        """Smooth the frames up to ``final`` (their whole window is in), follow the pauses through
        them, and make the cuts that are now certain."""
        closed: list[tuple[int, int]] = []
        first = len(self.smooth)
        if final <= first:
            return closed
        # np.convolve over the frames around the new ones: each value the same sum as segment()'s (once
        # there are a window's frames: a shorter array would be convolved the other way round)
        lo = max(0, first - self.window)
        if total is None and len(self.speed) - lo < self.window:
            return closed
        values = smooth_speed(np.asarray(self.speed[lo:]), self.window)[first - lo : final - lo]
        for t, value in enumerate(values.tolist(), start=first):
            self.smooth.append(value)
            still = value < self.config.pause_speed
            if still and self._run is None:
                self._run, self._run_cut = t, False
            elif not still and self._run is not None:
                cut = None if self._run_cut else pause_cut(self._run, t, total, self.fps, self.config)
                self._run = None
                if cut is not None:
                    closed += self._candidate(cut)
            if still and not self._run_cut and self.close_len and t + 1 - self._run >= self.close_len:
                cut = pause_cut(self._run, t + 1, None, self.fps, self.config)
                if cut is not None:  # the pause goes on: close the segment in the middle of it so far
                    self._run_cut = True
                    closed += self._candidate(cut)
            closed += self._force(t)
        return closed

    def _candidate(self, end: int) -> list[tuple[int, int]]:
        """A pause's cut, handled as :func:`_enforce` handles it."""
        closed = []
        while end - self.start > self.max_len:
            closed.append(self._cut(forced_cut(self.start, np.asarray(self.smooth), self.max_len, self.min_len)))
        if end - self.start >= self.min_len:
            closed.append(self._cut(end))
        return closed

    def _force(self, t: int) -> list[tuple[int, int]]:
        """Forced cuts that are certain with frames up to ``t`` smoothed: the earliest cut a pause
        could still make is past ``max_seconds`` from the open segment's start."""
        closed = []
        while True:
            open_run = self._run is not None and not self._run_cut
            earliest = (self._run + t + 1) // 2 if open_run else t + 1
            if earliest - self.start <= self.max_len:
                return closed
            closed.append(self._cut(forced_cut(self.start, np.asarray(self.smooth), self.max_len, self.min_len)))

    def _cut(self, end: int) -> tuple[int, int]:
        span, self.start = (self.start, end), end
        return span
