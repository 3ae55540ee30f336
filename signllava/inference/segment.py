"""Splitting a long signing video into sentence-sized segments, from the pose alone.

Signers pause between sentences: the hands slow down (and often drop). A frame's motion is the
mean speed of the wrists and hand points, in shoulder widths per second; segments end in the
middle of pauses (runs of low motion at least ``min_pause`` long), and a stretch without pauses
longer than ``max_seconds`` is cut at its quietest frame, falling back to fixed windows when the
pose gives nothing to go by (no hands found).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pose_format import Pose

from pose.features import component, signing_space


@dataclass
class SegmentConfig:
    """How a long video is cut into sentences."""

    max_seconds: float = 10.0  # no segment longer than this
    min_seconds: float = 1.0  # no segment shorter than this (merged into a neighbour)
    min_pause: float = 0.3  # seconds of low motion that count as a pause
    pause_speed: float = 0.5  # shoulder widths per second below which the hands count as still


def hand_speed(pose: Pose) -> np.ndarray:
    """Per-frame mean hand speed ``(T,)`` in shoulder widths per second (0 where nothing is found)."""
    fps = float(pose.body.fps)
    parts = [component(pose, "LEFT_HAND_LANDMARKS"), component(pose, "RIGHT_HAND_LANDMARKS")]
    body, body_found = component(pose, "POSE_LANDMARKS")
    parts.append((body[:, 15:17], body_found[:, 15:17]))  # the wrists, found even when a hand is not
    _, size, valid = signing_space(pose)
    scale = np.where(valid, size / 1.5, np.nan)  # shoulder width in pixels
    scale = np.where(np.isnan(scale), np.nanmedian(scale) if valid.any() else 1.0, scale)
    speeds = []
    for xyz, found in parts:
        step = np.linalg.norm(np.diff(xyz[..., :2], axis=0), axis=-1)  # (T-1, N)
        both = found[1:] & found[:-1]
        n = both.sum(1)
        mean = np.where(n > 0, (step * both).sum(1) / np.maximum(n, 1), np.nan)
        speeds.append(mean)
    speed = np.nanmean(np.stack(speeds), axis=0) if len(pose.body.data) > 1 else np.zeros(0)
    speed = np.concatenate([[0.0], np.nan_to_num(speed, nan=0.0)]) * fps / scale
    return speed


def segment(pose: Pose, config: SegmentConfig | None = None) -> list[tuple[int, int]]:
    """Frame ranges ``[(start, end), ...]`` covering the pose, cut at pauses."""
    config = config or SegmentConfig()
    fps = float(pose.body.fps)
    total = len(pose.body.data)
    if total == 0:
        return []
    max_len = max(1, int(config.max_seconds * fps))
    if total <= max_len:
        return [(0, total)]
    speed = hand_speed(pose)
    k = max(1, int(0.2 * fps))
    smooth = np.convolve(speed, np.ones(k) / k, mode="same")
    still = smooth < config.pause_speed
    cuts = []
    i = 0
    while i < total:
        if still[i]:
            j = i
            while j < total and still[j]:
                j += 1
            if (j - i) >= config.min_pause * fps and 0 < i and j < total:
                cuts.append((i + j) // 2)
            i = j
        else:
            i += 1
    bounds = _enforce(sorted(set(cuts)), total, smooth, max_len, int(config.min_seconds * fps))
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _enforce(cuts: list[int], total: int, smooth: np.ndarray, max_len: int, min_len: int) -> list[int]:
    bounds = [0, *cuts, total]
    out = [0]
    for end in bounds[1:]:
        start = out[-1]
        while end - start > max_len:  # too long: cut at the quietest frame of the allowed window
            lo, hi = start + max(min_len, 1), start + max_len
            cut = lo + int(np.argmin(smooth[lo:hi])) if hi > lo else start + max_len
            out.append(cut)
            start = cut
        if end - start >= min_len or end == total:
            out.append(end)
    if len(out) > 2 and out[-1] - out[-2] < min_len:  # a short tail joins the previous segment
        out.pop(-2)
    return out
