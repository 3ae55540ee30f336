from __future__ import annotations

import numpy as np
import pytest

from pose.errors import InputError
from pose.features import pose_view_208
from pose.io import write_pose
from signllava.data.how2sign import Sentence
from signllava.data.poses import sentence_features
from tests.pose.test_features import synthetic_pose


def test_cut_from_full_video_and_precut_clip(tmp_path):
    full = synthetic_pose(frames=50)  # 25 fps, 2 s
    write_pose(full, tmp_path / "vid-1.pose")
    clip = synthetic_pose(frames=7)
    write_pose(clip, tmp_path / "sub" / "w_0-1.pose")
    sents = [
        Sentence("vid", "vid-1", "vid_0", "vid_0-1", 0.2, 0.6, "a"),
        Sentence("vid", "vid-1", "vid_1", "vid_1-1", 1.0, 3.0, "b"),  # END past the end: clipped to the video
        Sentence("w", "w-1", "w_0", "w_0-1", 5.0, 6.0, "c"),  # pre-cut clip: used whole
    ]
    got = {s.sentence_name: f for s, f in sentence_features(sents, tmp_path)}
    full_features, _ = pose_view_208(full)
    np.testing.assert_array_equal(got["vid_0-1"], full_features[5:15])
    np.testing.assert_array_equal(got["vid_1-1"], full_features[25:50])
    assert got["w_0-1"].shape == (7, 208)


def test_missing_pose_is_named(tmp_path):
    sents = [Sentence("x", "x-1", "x_0", "x_0-1", 0, 1, "a")]
    with pytest.raises(InputError, match="no pose for sentence x_0-1"):
        list(sentence_features(sents, tmp_path))
    write_pose(synthetic_pose(frames=10), tmp_path / "x-1.pose")
    late = [Sentence("x", "x-1", "x_1", "x_1-1", 5, 6, "b")]
    with pytest.raises(InputError, match="x_1-1 .* has no frames"):
        list(sentence_features(late, tmp_path))


def test_a_pose_folder_may_link_other_datasets_folders(tmp_path):
    for name in ("a", "b"):
        write_pose(synthetic_pose(frames=6), tmp_path / name / "poses" / f"{name}_0-1.pose")
    mix = tmp_path / "mix"
    mix.mkdir()
    for name in ("a", "b"):
        (mix / name).symlink_to(tmp_path / name / "poses", target_is_directory=True)
    sents = [Sentence(n, f"{n}-1", f"{n}_0", f"{n}_0-1", 0, 1, n) for n in ("a", "b")]
    assert [s.sentence_name for s, _ in sentence_features(sents, mix)] == ["a_0-1", "b_0-1"]
