"""Cutting a long pose into sentence-sized segments at the pauses between sentences."""

from __future__ import annotations

import csv

from pose.io import read_pose
from signllava.inference.segment import SegmentConfig, segment


def test_segments_fall_on_sentence_boundaries(synth):
    with open(synth / "how2sign_realigned_test.csv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    video = rows[0]["VIDEO_NAME"]
    sentences = [r for r in rows if r["VIDEO_NAME"] == video]
    pose = read_pose(synth / "poses_full" / f"{video}.pose")
    fps = float(pose.body.fps)
    spans = segment(pose, SegmentConfig(max_seconds=4))
    assert spans[0][0] == 0 and spans[-1][1] == len(pose.body.data)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))  # contiguous
    cuts = [end / fps for _, end in spans[:-1]]
    for prev, nxt in zip(sentences, sentences[1:], strict=False):
        gap = (float(prev["END_REALIGNED"]) + float(nxt["START_REALIGNED"])) / 2
        assert min(abs(c - gap) for c in cuts) < 0.4, f"no cut near the sentence boundary at {gap:.2f} s"


def test_short_pose_is_one_segment(synth):
    clip = next((synth / "poses").glob("*.pose"))
    pose = read_pose(clip)
    assert segment(pose) == [(0, len(pose.body.data))]
