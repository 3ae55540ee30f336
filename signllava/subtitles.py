"""Timed translations as plain text, JSON, SRT or WebVTT."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

FORMATS = ("text", "json", "srt", "vtt")


@dataclass(frozen=True)
class Segment:
    """One translated stretch of the video (seconds); ``glosses``: the signs the model's gloss head
    recognized in it, for a model trained with glosses (``train.ctc``), else None."""

    start: float
    end: float
    text: str
    glosses: tuple[str, ...] | None = None

    def as_dict(self) -> dict:
        """The segment for JSON: ``glosses`` only where the model recognizes glosses."""
        d = {"start": self.start, "end": self.end, "text": self.text}
        return d if self.glosses is None else d | {"glosses": list(self.glosses)}


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def format_segments(segments: Sequence[Segment], fmt: str, source: str = "") -> str:
    """The segments in ``fmt``: text (one line each), json, srt or vtt."""
    if fmt == "text":
        return "".join(s.text + "\n" for s in segments)
    if fmt == "json":
        return (
            json.dumps({"video": source, "segments": [s.as_dict() for s in segments]}, indent=1, ensure_ascii=False)
            + "\n"
        )
    if fmt == "srt":
        return "\n".join(
            f"{i}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{s.text}\n" for i, s in enumerate(segments, start=1)
        )
    if fmt == "vtt":
        cues = "\n".join(f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{s.text}\n" for s in segments)
        return "WEBVTT\n\n" + cues
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
