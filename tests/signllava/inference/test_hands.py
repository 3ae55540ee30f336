"""Hands missing in most frames: measured from the pose's hand landmarks, and said on stderr, in the
JSON and in the notebook, where a translation of such a video is unreliable."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pose_format import Pose
from typer.testing import CliRunner

from pose.errors import InputError
from pose.io import read_pose, write_pose
from signllava.cli import app
from signllava.inference.hands import HANDS, HandsCheck, hand_found, hands_warning, share_found
from signllava.inference.subtitles import Segment, format_segments, hands_share
from signllava.inference.translator import Translator

runner = CliRunner()


def without_hands(pose: Pose, frames=slice(None)) -> Pose:
    """``pose`` with both hands dropped (confidence 0, as an extractor leaves a hand it did not find) in ``frames``."""
    start = 0
    for c in pose.header.components:
        n = len(c.points)
        if c.name in HANDS:
            pose.body.confidence[frames, :, start : start + n] = 0
        start += n
    return pose


@pytest.fixture(scope="module")
def clip(synth):
    return sorted((synth / "poses").glob("*.pose"))[0]


def test_hand_presence_is_read_from_the_hand_landmarks(clip):
    pose = read_pose(clip)
    found = hand_found(pose)
    assert found.shape == (len(pose.body.data),) and found.dtype == bool
    t = len(found)
    half = without_hands(read_pose(clip), slice(0, t // 2))
    assert not hand_found(half)[: t // 2].any()
    assert share_found(hand_found(half)) == pytest.approx(hand_found(pose)[t // 2 :].sum() / t)
    assert share_found(hand_found(without_hands(read_pose(clip)))) == 0.0
    assert share_found(None) is None and share_found(np.zeros(0, bool)) == 0.0


def test_the_warning_names_the_share_and_the_segments_it_is_about():
    check = HandsCheck(min_found=0.5)
    good, bad = Segment(0.0, 2.0, "a", hands_found=0.9), Segment(2.0, 4.0, "b", hands_found=0.1)
    assert hands_warning([good], check) is None
    assert hands_warning([Segment(0.0, 1.0, "a")], check) is None  # no hands in the pose format: nothing known
    whole = hands_warning([bad], check, "v.mp4")
    assert whole == "hands found in only 10 % of the frames of v.mp4: the translation is unreliable"
    some = hands_warning([good, bad], check, "v.mp4")
    assert "1 of 2 segments of v.mp4 (2.0-4.0 s)" in some and "under 50 %" in some and "\n" not in some
    assert hands_share([good, bad]) == pytest.approx(0.5)
    with pytest.raises(InputError, match="between 0 and 1"):
        HandsCheck(min_found=1.5)


def test_json_holds_the_share_and_the_warning():
    segments = [Segment(0.0, 1.0, "a", hands_found=0.0312), Segment(1.0, 3.0, "b", ("B",), hands_found=0.0)]
    out = json.loads(format_segments(segments, "json", "v.pose", "hands found in only 1 % ..."))
    assert out["hands_found"] == pytest.approx(0.010, abs=1e-3) and out["warning"] == "hands found in only 1 % ..."
    assert out["segments"][0] == {"start": 0.0, "end": 1.0, "text": "a", "hands_found": 0.031}
    assert out["segments"][1]["glosses"] == ["B"]
    plain = json.loads(format_segments([Segment(0.0, 1.0, "a")], "json", "v.pose"))
    assert plain == {"video": "v.pose", "segments": [{"start": 0.0, "end": 1.0, "text": "a"}]}


def test_translating_a_video_without_hands_warns_once_on_stderr_and_in_the_json(checkpoint, clip, tmp_path):
    handless = write_pose(without_hands(read_pose(clip)), tmp_path / "handless.pose")
    translator = Translator.load(checkpoint, "cpu")
    segments = translator.translate(handless, num_beams=1, max_new_tokens=4)
    assert [s.hands_found for s in segments] == [0.0] * len(segments)
    assert "hands found in only 0 %" in translator.hands_warning(segments, handless)
    assert translator.hands_warning(translator.translate(clip, num_beams=1, max_new_tokens=4), clip) is None
    assert "hands found in only 0 %" in translator.video_hands_warning(handless)
    assert translator.video_hands_warning(clip) is None

    args = ["translate", str(handless), "--checkpoint", str(checkpoint), "--beam", "1", "-f", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert lines == [f"warning: hands found in only 0 % of the frames of {handless}: the translation is unreliable"]
    out = json.loads(result.stdout)
    assert out["hands_found"] == 0.0 and out["warning"] == lines[0].removeprefix("warning: ")
    fine = runner.invoke(app, [*args[:1], str(clip), *args[2:]])
    assert fine.exit_code == 0 and "warning: " not in fine.stderr and "warning" not in json.loads(fine.stdout)
