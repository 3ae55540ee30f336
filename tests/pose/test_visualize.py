"""Drawing a pose: a PNG contact sheet, one frame, an .mp4, over its video or a white canvas."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody

from pose.errors import InputError
from pose.io import write_pose
from pose.topology import facemesh_contours_points
from pose.video import VideoStream
from pose.visualize import draw_pose, drawable
from tests.conftest import write_video
from tests.pose.test_features import synthetic_pose  # 640 x 480, 25 fps


@pytest.fixture
def pose_file(tmp_path):
    return write_pose(synthetic_pose(frames=8), tmp_path / "clip.pose")


def test_a_contact_sheet_tiles_evenly_spaced_frames(pose_file, tmp_path):
    out = draw_pose(pose_file, tmp_path / "sheet.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not list(tmp_path.glob(".*"))  # written atomically
    sheet = cv2.imread(str(out))
    assert sheet.shape == (2 * 480, 3 * 640, 3)  # 6 frames: 3 columns, 2 rows of full-size tiles
    tile = sheet[:480, :640]
    assert (tile == 255).all(-1).mean() > 0.5 and (tile != 255).any()  # a white canvas with a skeleton on it
    assert not np.array_equal(sheet[:480, :640], sheet[:480, 640:1280])  # different frames, not one repeated
    four = cv2.imread(str(draw_pose(pose_file, tmp_path / "four.jpg", frames=4)))
    assert four.shape == (2 * 480, 2 * 640, 3)


def test_one_frame_and_its_range(pose_file, tmp_path):
    one = cv2.imread(str(draw_pose(pose_file, tmp_path / "f.png", frame_index=7)))
    assert one.shape == (480, 640, 3)
    with pytest.raises(InputError, match=r"^frame 8 is out of range \(the pose has 8 frames\)$"):
        draw_pose(pose_file, tmp_path / "g.png", frame_index=8)
    assert not (tmp_path / "g.png").exists()


def test_a_video_of_every_frame_over_the_source_video(pose_file, tmp_path):
    video = write_video(tmp_path / "src.mp4", frames=8, size=(320, 240))  # grey 40, resized to the pose's 640 x 480
    out = draw_pose(pose_file, tmp_path / "overlay.mp4", video=video)
    frames = list(VideoStream(out).frames())
    assert len(frames) == 8 and frames[0].shape == (480, 640, 3)
    assert abs(int(np.median(frames[0])) - 40) < 10  # the video shows through, not a white canvas


def test_bad_outputs_and_empty_poses_are_one_line_errors(pose_file, tmp_path):
    with pytest.raises(InputError, match="out.gif: output must end in .mp4, .png or .jpg"):
        draw_pose(pose_file, tmp_path / "out.gif")
    pose = synthetic_pose(frames=1)
    empty = Pose(pose.header, NumPyPoseBody(25, pose.body.data.data[:0], pose.body.confidence[:0]))
    with pytest.raises(InputError, match="empty.pose: pose has no frames to draw"):
        draw_pose(write_pose(empty, tmp_path / "empty.pose"), tmp_path / "e.png")


def test_only_image_parts_are_drawn_and_the_face_as_its_contours():
    pose = drawable(synthetic_pose())
    names = [c.name for c in pose.header.components]
    assert "POSE_WORLD_LANDMARKS" not in names and "FACE_LANDMARKS" in names and "POSE_LANDMARKS" in names
    face = next(c for c in pose.header.components if c.name == "FACE_LANDMARKS")
    assert len(face.points) == len(facemesh_contours_points()) < 468


@pytest.mark.parametrize("tool", ["openpose", "reduced"])
def test_another_skeleton_is_drawn_as_it_is(tmp_path, tool):
    """Looking at a file is how one finds out what it holds: drawing takes any skeleton (the model does not)."""
    from tests.pose.test_features import other_skeleton_pose

    path = write_pose(other_skeleton_pose(tool, frames=3), tmp_path / f"{tool}.pose")
    out = draw_pose(path, tmp_path / f"{tool}.png", frames=2)
    assert cv2.imread(str(out)) is not None


def test_a_face_without_the_contour_points_is_drawn_whole():
    pose = synthetic_pose()
    names = [c.name for c in pose.header.components]
    first70 = pose.get_components(names, {"FACE_LANDMARKS": [str(i) for i in range(70)]})  # no whole contour
    drawn = next(c for c in drawable(first70).header.components if c.name == "FACE_LANDMARKS")
    assert len(drawn.points) == 70
