from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from pose.io import read_pose
from signllava.cli import app
from signllava.model import ModelConfig, StreamConfig
from signllava.segment import SegmentConfig, segment
from signllava.subtitles import Segment, render
from signllava.translator import Translator
from tests.conftest import realdata, write_video

runner = CliRunner()


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


def test_subtitle_formats():
    segs = [Segment(0.0, 2.5, "Hello."), Segment(2.5, 3661.042, "Bye.")]
    assert render(segs, "srt") == "1\n00:00:00,000 --> 00:00:02,500\nHello.\n\n2\n00:00:02,500 --> 01:01:01,042\nBye.\n"
    assert render(segs, "vtt").startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello.\n")
    assert json.loads(render(segs, "json", "v.mp4"))["segments"][1] == {"start": 2.5, "end": 3661.042, "text": "Bye."}
    assert render(segs, "text") == "Hello.\nBye.\n"


def test_translate_pose_file_and_formats(checkpoint, synth, tmp_path):
    clip = next((synth / "poses").glob("*.pose"))
    translator = Translator.load(checkpoint, "cpu")
    segments = translator.translate(clip, num_beams=1, max_new_tokens=4)
    assert len(segments) == 1 and segments[0].end > 0
    out = tmp_path / "sub.vtt"
    result = runner.invoke(
        app, ["translate", str(clip), "--checkpoint", str(checkpoint), "--beam", "1", "-f", "vtt", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("WEBVTT\n\n00:00:00.000 --> ")
    answer = translator.ask(clip, "Is the video reversed?", max_new_tokens=3)
    assert isinstance(answer, str)


def test_translate_bad_inputs(checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cli-cache"))
    translator = Translator.load(checkpoint, "cpu")
    with pytest.raises(InputError, match="gone.mp4: file not found"):
        translator.translate(tmp_path / "gone.mp4")
    empty = write_video(tmp_path / "nobody.mp4", frames=6, size=(128, 96))
    translator.cache = tmp_path / "cache"
    with pytest.raises(InputError, match="nobody.mp4: no signer found in any frame"):
        translator.translate(empty)
    result = runner.invoke(app, ["translate", str(empty), "--checkpoint", str(checkpoint), "--device", "cpu"])
    assert isinstance(result.exception, InputError) and "no signer found" in str(result.exception)
    with pytest.raises(InputError, match="no pose view has that size"):
        Translator(type("M", (), {"config": ModelConfig(streams={"dino": StreamConfig(1152)})})())


@pytest.mark.slow
def test_translate_real_clip_uses_the_pose_cache(checkpoint, tmp_path, monkeypatch):
    clip = realdata("how2sign", "clips", "_0fO5ETSwyg_1-5-rgb_front.mp4")
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cache"))
    args = ["translate", str(clip), "--checkpoint", str(checkpoint), "--beam", "1", "-v", "-f", "json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["segments"][0]["end"] > 0
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "(poses from cache)" in second.stderr and "poses from cache" not in first.stderr
