from __future__ import annotations

import os
import re

import numpy as np
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


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda p: setattr(p.body, "fps", 0), "its frame rate is 0.0 fps"),
        (lambda p: setattr(p.body, "fps", float("nan")), "its frame rate is nan fps"),
        (lambda p: p.body.data.data.__setitem__((1, 0, 40, 0), np.nan), "frame 1, person 0, FACE_LANDMARKS 7 has a"),
        (
            lambda p: p.body.data.data.__setitem__((0, 0, 11, 1), 3e38),
            "frame 0, person 0, POSE_LANDMARKS LEFT_SHOULDER",
        ),
        (
            lambda p: p.body.confidence.__setitem__((2, 0, 0), np.inf),
            "frame 2, person 0, POSE_LANDMARKS NOSE has a conf",
        ),
    ],
)
def test_a_pose_whose_numbers_are_damaged_is_one_line(tmp_path, damage, says):
    """Found by fuzzing: bytes changed in a .pose's body read as a frame rate of 0 or NaN (a traceback where the
    pose is resampled) or as coordinates of NaN or 1e38, which the views turned into infinities, silently."""
    from pose.errors import InputError
    from pose.io import pose_seconds, read_pose, write_pose
    from tests.pose.test_features import synthetic_pose

    pose = synthetic_pose(frames=3)
    damage(pose)
    write_pose(pose, tmp_path / "a.pose")
    with pytest.raises(InputError, match=f"a.pose: damaged .pose file: {re.escape(says)}") as err:
        read_pose(tmp_path / "a.pose", holistic=False)  # drawing reads any skeleton, not damaged numbers
    assert "\n" not in str(err.value)
    if "frame rate" in says:
        with pytest.raises(InputError, match="frame rate"):
            pose_seconds(tmp_path / "a.pose")


def test_shoulders_in_one_place_give_no_signing_space():
    """Found by fuzzing: shoulders a subnormal float apart made a signing space that scaled the body to infinity."""
    from pose.features import pose_view_208, sign2vec_view_255, signing_space
    from tests.pose.test_features import synthetic_pose

    pose = synthetic_pose(frames=2)
    pose.body.data.data[1, 0, 11, :2] = (1e-40, 0)  # left shoulder
    pose.body.data.data[1, 0, 12, :2] = (0, 0)  # right shoulder
    assert signing_space(pose)[2].tolist() == [True, False]
    for view in (pose_view_208, sign2vec_view_255):
        assert np.isfinite(view(pose)[0]).all()


@pytest.mark.parametrize("tool", ["openpose", "alphapose", "coco", "reduced"])
def test_a_pose_of_another_skeleton_is_refused_where_the_model_reads_it(tmp_path, tool):
    from pose.errors import InputError
    from pose.io import pose_seconds, read_pose, write_pose
    from tests.pose.test_features import other_skeleton_pose

    path = write_pose(other_skeleton_pose(tool), tmp_path / f"{tool}.pose")
    for read in (read_pose, pose_seconds):  # the header alone tells (a command refuses before any model loads)
        with pytest.raises(InputError, match=f"{tool}.pose: .*the model needs MediaPipe Holistic's") as err:
            read(path)
        assert "\n" not in str(err.value)
    assert len(read_pose(path, holistic=False).body.data) == 4  # drawing reads any skeleton


def test_a_pose_of_no_person_is_refused(tmp_path):
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    from pose.errors import InputError
    from pose.io import read_pose, write_pose
    from tests.pose.test_features import synthetic_pose

    pose = synthetic_pose()
    nobody = Pose(pose.header, NumPyPoseBody(25, pose.body.data.data[:, :0], pose.body.confidence[:, :0]))
    with pytest.raises(InputError, match="nobody.pose: the pose holds no person"):
        read_pose(write_pose(nobody, tmp_path / "nobody.pose"))


def test_a_file_in_the_way_of_an_output_is_one_line_before_anything_is_written(tmp_path):
    from pose.errors import InputError
    from pose.io import atomic_folder, atomic_output, make_folder, output_file, output_folder

    taken = tmp_path / "taken"
    taken.write_text("a file\n")
    (tmp_path / "dir").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    cases = [
        (output_folder, taken, f"{taken}: a file is in the way: an output folder goes here"),
        (make_folder, taken, f"{taken}: a file is in the way: an output folder goes here"),
        (output_folder, taken / "sub" / "deeper", f"{taken}: a file, not a folder: {taken / 'sub' / 'deeper'} cannot"),
        (output_file, taken / "out.tsv", f"{taken}: a file, not a folder: {taken / 'out.tsv'} cannot be written"),
        (output_file, tmp_path / "dir", f"{tmp_path / 'dir'}: a folder is in the way: an output file goes here"),
    ]
    for check, path, says in cases:
        with pytest.raises(InputError) as err:
            check(path)
        assert str(err.value).startswith(says) and "\n" not in str(err.value)
    for writer, path in ((atomic_output, taken / "x.pose"), (atomic_folder, taken), (atomic_output, tmp_path / "dir")):
        with pytest.raises(InputError), writer(path):
            pytest.fail("the block runs only where the output can be written")
    assert sorted(p.name for p in tmp_path.iterdir()) == before and taken.read_text() == "a file\n"
    assert output_folder(tmp_path / "new" / "run") == tmp_path / "new" / "run" and not (tmp_path / "new").exists()
    assert make_folder(tmp_path / "new" / "run").is_dir()


def test_an_output_claimed_by_one_run_is_not_claimed_by_another(tmp_path):
    from pose.io import TMP_PREFIX, claim, lock_path, remove_partials

    out = tmp_path / "poses" / "clip.pose"
    with claim(out) as first:
        assert first and lock_path(out).is_file()
        with claim(out) as second:  # another lock on the same file: as another process's would be
            assert not second
        partial = out.with_name(f"{TMP_PREFIX}clip.pose.abc123")
        partial.write_bytes(b"being written")
        assert remove_partials(tmp_path / "poses") == 0 and partial.exists()  # the holder is writing it
    assert not lock_path(out).exists()  # no lock file is left behind
    with claim(out) as again:
        assert again
    assert remove_partials(tmp_path / "poses") == 1 and not partial.exists()  # nobody's: a killed run's
    assert sorted(p.name for p in (tmp_path / "poses").iterdir()) == []
