"""Translations as subtitles: SRT, WebVTT, JSON and plain text."""

from __future__ import annotations

import json

from signllava.inference.subtitles import Segment, format_segments


def test_subtitle_formats():
    segs = [Segment(0.0, 2.5, "Hello."), Segment(2.5, 3661.042, "Bye.")]
    assert (
        format_segments(segs, "srt")
        == "1\n00:00:00,000 --> 00:00:02,500\nHello.\n\n2\n00:00:02,500 --> 01:01:01,042\nBye.\n"
    )
    assert format_segments(segs, "vtt").startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello.\n")
    assert json.loads(format_segments(segs, "json", "v.mp4"))["segments"][1] == {
        "start": 2.5,
        "end": 3661.042,
        "text": "Bye.",
    }
    assert format_segments(segs, "text") == "Hello.\nBye.\n"
    read = [Segment(0.0, 2.5, "Hello.", ("HELLO",)), Segment(2.5, 3.0, "", ())]
    assert [s.get("glosses") for s in json.loads(format_segments(read, "json"))["segments"]] == [["HELLO"], []]
    assert format_segments(read, "srt") == format_segments([Segment(0.0, 2.5, "Hello."), Segment(2.5, 3.0, "")], "srt")


def test_cues_appended_one_at_a_time_make_the_same_file():
    """live appends each segment as it comes: the growing srt/vtt file is translate's, byte for byte."""
    import json

    from signllava.inference.subtitles import cue_header, format_cue, format_segments

    segments = [Segment(0.0, 1.5, "Hi.", None, 1.0), Segment(1.5, 3.25, "Bye.", ("BYE",), 0.5)]
    for fmt in ("srt", "vtt"):
        grown = cue_header(fmt) + "".join(format_cue(s, fmt, i) for i, s in enumerate(segments, start=1))
        assert grown == format_segments(segments, fmt)
    lines = [format_cue(s, "jsonl", i, {"latency": 0.25}) for i, s in enumerate(segments, start=1)]
    assert [json.loads(line) for line in lines][1] == {
        "start": 1.5, "end": 3.25, "text": "Bye.", "glosses": ["BYE"], "hands_found": 0.5, "latency": 0.25
    }  # fmt: skip
    assert format_cue(segments[0], "text", 1) == "[   0.00-   1.50 s] Hi.\n"
