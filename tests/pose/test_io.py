from __future__ import annotations

import os

import pytest

from pose.io import atomic_folder, recover_folder, remove_partials


def test_atomic_folder_replaces_only_when_complete(tmp_path):
    target = tmp_path / "ckpt"
    with atomic_folder(target) as tmp:
        (tmp / "a").write_text("1")
    assert (target / "a").read_text() == "1"
    with pytest.raises(RuntimeError), atomic_folder(target) as tmp:
        (tmp / "a").write_text("2")
        raise RuntimeError("killed")
    assert (target / "a").read_text() == "1" and sorted(os.listdir(tmp_path)) == ["ckpt"]
    with atomic_folder(target, keep_existing=True) as tmp:
        (tmp / "a").write_text("3")
    assert (target / "a").read_text() == "1" and sorted(os.listdir(tmp_path)) == ["ckpt"]
    assert remove_partials(tmp_path) == 0  # folders are never touched by the .pose cleanup


def test_recover_a_swap_cut_in_half(tmp_path):
    target = tmp_path / "last"
    parked = tmp_path / ".old-last"
    parked.mkdir()
    (parked / "w").write_text("previous")
    assert (recover_folder(target) / "w").read_text() == "previous" and not parked.exists()


def test_pose_seconds_reads_the_duration_without_the_landmarks(tmp_path):
    from pose.errors import InputError
    from pose.io import pose_seconds, read_pose, write_pose
    from tests.pose.test_features import synthetic_pose

    pose = synthetic_pose(frames=60)
    pose.body.fps = 24
    write_pose(pose, tmp_path / "a.pose")
    assert pose_seconds(tmp_path / "a.pose") == 2.5 == len(read_pose(tmp_path / "a.pose").body.data) / 24
    with pytest.raises(InputError, match="gone.pose: pose file not found"):
        pose_seconds(tmp_path / "gone.pose")
    (tmp_path / "junk.pose").write_bytes(b"not a pose")
    with pytest.raises(InputError, match="junk.pose: not a readable .pose file"):
        pose_seconds(tmp_path / "junk.pose")
