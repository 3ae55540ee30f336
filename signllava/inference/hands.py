"""Whether the signer's hands were found: a translation of frames without hands is not to be trusted.

Signing is mostly in the hands. When the pose tracker finds no hand in most frames of a stretch
(the camera shows a face, the hands are out of the picture or too blurred), every sign model still
writes a fluent sentence for it; the translation says nothing about the video. The share of frames
in which a hand was found (either hand: one-handed signs leave the other at rest, often out of
view) is measured per segment from the pose's hand landmarks, and a video or segment under
:attr:`HandsCheck.min_found` is flagged with one warning line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pose_format import Pose

from pose.errors import InputError, quoted
from pose.features import component

from .subtitles import Segment, hands_share

HANDS = ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")


@dataclass
class HandsCheck:
    """When a translation is flagged as unreliable for want of hands."""

    # share of frames with a hand found under which a segment (or video) is flagged: "missing in most frames"
    min_found: float = 0.5

    def __post_init__(self):
        if not 0 <= self.min_found <= 1:
            raise InputError(None, f"config value min_found={quoted(self.min_found)} must be between 0 and 1")


def hand_found(pose: Pose) -> np.ndarray | None:
    """Per frame ``(T,)`` bool: some point of either hand was found; None for a pose without hand components."""
    try:
        found = [component(pose, name)[1].any(1) for name in HANDS]
    except KeyError:
        return None
    return found[0] | found[1]


def share_found(found: np.ndarray | None, first: int = 0, last: int | None = None) -> float | None:
    """The share of frames ``first:last`` with a hand found (None where hands are not in the pose)."""
    if found is None:
        return None
    part = found[first:last]
    return float(part.mean()) if len(part) else 0.0


def hands_warning(segments: Sequence[Segment], check: HandsCheck, source: str = "") -> str | None:
    """One line for the user when hands were missing in most frames (under ``check.min_found``) of
    the video or of some of its segments, else None."""
    flagged = [s for s in segments if s.hands_found is not None and s.hands_found < check.min_found]
    if not flagged:
        return None
    where = f" of {source}" if source else ""
    if len(flagged) == len(segments):
        share = 100 * hands_share(segments)
        return f"hands found in only {share:.0f} % of the frames{where}: the translation is unreliable"
    spans = ", ".join(f"{s.start:.1f}-{s.end:.1f} s" for s in flagged)
    return (
        f"hands found in under {100 * check.min_found:.0f} % of the frames of {len(flagged)} of {len(segments)} "
        f"segments{where} ({spans}): their translation is unreliable"
    )
