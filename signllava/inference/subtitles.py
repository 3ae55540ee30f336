"""Timed translations as plain text, JSON, SRT or WebVTT."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

FORMATS = ("text", "json", "srt", "vtt")
CUE_FORMATS = ("text", "jsonl", "srt", "vtt")  # formats written one segment at a time (signllava live)


@dataclass(frozen=True)
class Segment:
    """One translated stretch of the video (seconds); ``glosses``: the signs the model's gloss head
    recognized in it, for a model trained with glosses (``train.ctc``), else None; ``hands_found``:
    the share of its frames in which a hand was found (None where the pose has no hands)."""

    start: float
    end: float
    text: str
    glosses: tuple[str, ...] | None = None
    hands_found: float | None = None

    def as_dict(self) -> dict:
        """The segment for JSON: ``glosses`` and ``hands_found`` only where they are known."""
        d = {"start": self.start, "end": self.end, "text": self.text}
        if self.glosses is not None:
            d["glosses"] = list(self.glosses)
        if self.hands_found is not None:
            d["hands_found"] = round(self.hands_found, 3)
        return d


def hands_share(segments: Sequence[Segment]) -> float | None:
    """The share of the whole video's frames with a hand found (segments weighted by their length);
    None where no segment knows it."""
    known = [s for s in segments if s.hands_found is not None]
    seconds = sum(s.end - s.start for s in known)
    if not known:
        return None
    if seconds <= 0:
        return known[0].hands_found
    return sum(s.hands_found * (s.end - s.start) for s in known) / seconds


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def format_segments(segments: Sequence[Segment], fmt: str, source: str = "", warning: str | None = None) -> str:
    """The segments in ``fmt``: text (one line each), json, srt or vtt. JSON also holds the share of
    the video's frames with a hand found and ``warning``, a note on the translation's reliability
    (:func:`signllava.inference.hands.hands_warning`), when there is one."""
    if fmt == "text":
        return "".join(s.text + "\n" for s in segments)
    if fmt == "json":
        head: dict = {"video": source}
        if (share := hands_share(segments)) is not None:
            head["hands_found"] = round(share, 3)
        if warning:
            head["warning"] = warning
        return json.dumps(head | {"segments": [s.as_dict() for s in segments]}, indent=1, ensure_ascii=False) + "\n"
    if fmt == "srt":
        return "\n".join(
            f"{i}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{s.text}\n" for i, s in enumerate(segments, start=1)
        )
    if fmt == "vtt":
        cues = "\n".join(f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{s.text}\n" for s in segments)
        return "WEBVTT\n\n" + cues
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def format_cue(segment: Segment, fmt: str, number: int, extra: dict | None = None) -> str:
    """One segment as it is appended to a growing file or stream in ``fmt`` (:data:`CUE_FORMATS`):
    text (``[start-end s] text``), jsonl (one JSON object a line: the segment and ``extra``), srt (cue
    ``number``, from 1) or vtt (whose file starts with :func:`cue_header`)."""
    if fmt == "text":
        return f"[{segment.start:7.2f}-{segment.end:7.2f} s] {segment.text}\n"
    if fmt == "jsonl":
        return json.dumps(segment.as_dict() | (extra or {}), ensure_ascii=False) + "\n"
    if fmt == "srt":
        return (
            "\n" if number > 1 else ""
        ) + f"{number}\n{_clock(segment.start, ',')} --> {_clock(segment.end, ',')}\n{segment.text}\n"
    if fmt == "vtt":
        return f"\n{_clock(segment.start, '.')} --> {_clock(segment.end, '.')}\n{segment.text}\n"
    raise ValueError(f"unknown cue format {fmt!r}; choose one of {', '.join(CUE_FORMATS)}")


def cue_header(fmt: str) -> str:
    """What a file of cues in ``fmt`` starts with, before its first cue."""
    return "WEBVTT\n" if fmt == "vtt" else ""
