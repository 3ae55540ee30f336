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
