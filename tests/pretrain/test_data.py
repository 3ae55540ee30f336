"""Where pretraining reads its clips: .pose files in path order, each with its video when one is needed."""

from __future__ import annotations

import pytest

from pose.errors import InputError
from pretrain.data import Clip, PretrainData, list_clips


def touch(path):
    """An empty file; a .pose file holds a real (one-frame) Holistic pose, as the first one is read."""
    from pose.io import write_pose
    from tests.pose.test_features import synthetic_pose

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".pose":
        return write_pose(synthetic_pose(frames=1), path)
    path.write_bytes(b"")
    return path


def test_clips_pair_each_pose_with_the_video_at_the_same_relative_path(tmp_path):
    poses, videos = tmp_path / "poses", tmp_path / "videos"
    b = touch(poses / "b.pose")
    a = touch(poses / "sub" / "a.pose")
    c = touch(poses / "c.pose")
    touch(poses / "notes.txt")
    touch(videos / "b.webm")
    touch(videos / "sub" / "a.mp4")
    touch(videos / "a.mp4")  # same stem, other folder: not a's video
    clips = list_clips(PretrainData(poses=str(poses), videos=str(videos)))
    assert clips == [Clip("b", b, videos / "b.webm"), Clip("c", c, None), Clip("a", a, videos / "sub" / "a.mp4")]
    assert [c.name for c in list_clips(PretrainData(poses=str(poses), limit=2))] == ["b", "c"]
    assert all(c.video is None for c in list_clips(PretrainData(poses=str(poses))))  # no video folder: poses only
    with pytest.raises(InputError, match=r"c.pose: no video for this pose under .*videos"):
        list_clips(PretrainData(poses=str(poses), videos=str(videos)), need_video=True)


def test_missing_folders_and_empty_ones_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match=r"^pose folder not found \(set data.poses\)$"):
        list_clips(PretrainData())
    with pytest.raises(InputError, match=r"gone: pose folder not found"):
        list_clips(PretrainData(poses=str(tmp_path / "gone")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: no .pose files found"):
        list_clips(PretrainData(poses=str(tmp_path / "empty")))
    touch(tmp_path / "p" / "x.pose")
    for videos in (None, str(tmp_path / "no-videos")):
        with pytest.raises(InputError, match="this objective reads video frames: set data.videos"):
            list_clips(PretrainData(poses=str(tmp_path / "p"), videos=videos), need_video=True)


def test_a_folder_of_another_tools_poses_is_refused_from_its_first_file(tmp_path):
    from pose.io import write_pose
    from tests.pose.test_features import other_skeleton_pose

    for name in ("a", "b"):
        write_pose(other_skeleton_pose("alphapose", frames=2), tmp_path / "p" / f"{name}.pose")
    with pytest.raises(InputError, match=r"a.pose: an AlphaPose Halpe 136 pose, not MediaPipe Holistic"):
        list_clips(PretrainData(poses=str(tmp_path / "p")))
