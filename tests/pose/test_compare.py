"""Comparing two Holistic poses of one video: frames paired by time, pixel differences, the time offset."""

from __future__ import annotations

import numpy as np
import pytest
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody

from pose.compare import best_offset, matching_frames, mean_pixel_difference
from tests.pose.test_features import synthetic_pose

FACE = slice(33, 33 + 468)  # the face's points in a Holistic pose (after the 33 body points)


def copy_of(pose: Pose, data=None, confidence=None, fps=None) -> Pose:
    body = pose.body
    data = np.array(body.data.data if data is None else data, np.float32)
    confidence = np.array(body.confidence if confidence is None else confidence, np.float32)
    return Pose(pose.header, NumPyPoseBody(fps or body.fps, data, confidence))


def test_frames_are_paired_by_time_across_frame_rates():
    a = synthetic_pose(frames=10)  # 25 fps
    b = copy_of(synthetic_pose(frames=20), fps=50)
    ia, ib = matching_frames(a, b)
    assert ia.tolist() == list(range(10)) and ib.tolist() == list(range(0, 20, 2))
    ia, ib = matching_frames(a, b, offset=0.1)  # b's frame 5 is a's frame 0; past b's end, a's frames go unpaired
    assert ia.tolist() == list(range(8)) and ib.tolist() == list(range(5, 20, 2))
    ia, ib = matching_frames(a, b, offset=-0.04)  # before b's start: a's first frame goes unpaired
    assert ia.tolist() == list(range(1, 10)) and ib[0] == 0


def test_pixel_differences_count_only_points_found_in_both():
    a = synthetic_pose(frames=4)
    moved = np.array(a.body.data.data)
    moved[:, 0, FACE, 0] += 3  # the face 3 px right and 1 px down; the hands stay
    moved[:, 0, FACE, 1] += 1
    confidence = np.array(a.body.confidence)
    confidence[0, 0, 33:43] = 0  # ten face points lost in one frame of b
    diffs = mean_pixel_difference(a, copy_of(a, moved, confidence))
    assert diffs["FACE_LANDMARKS"] == (pytest.approx(2.0), 4 * 468 - 10)  # mean of |dx| = 3 and |dy| = 1
    assert diffs["RIGHT_HAND_LANDMARKS"] == (0.0, 4 * 21) and diffs["POSE_LANDMARKS"] == (0.0, 4 * 33)
    gone = mean_pixel_difference(a, synthetic_pose(frames=4, right_hand=False), ("RIGHT_HAND_LANDMARKS",))
    mean, count = gone["RIGHT_HAND_LANDMARKS"]
    assert count == 0 and np.isnan(mean)  # never found in both: no number, not a zero


@pytest.mark.parametrize("delay", [0, 2, -3])
def test_the_offset_that_lines_up_the_faces_is_found(delay):
    a = synthetic_pose(frames=40)  # each frame's points drawn at random: only the right shift matches
    data, confidence = np.asarray(a.body.data.data), np.asarray(a.body.confidence)
    if delay >= 0:  # b starts `delay` frames earlier: a's frame i is b's frame i + delay
        other = synthetic_pose(frames=delay + 1)
        b = copy_of(
            a, np.concatenate([other.body.data.data[:delay], data]), np.concatenate([confidence[:delay], confidence])
        )
    else:
        b = copy_of(a, data[-delay:], confidence[-delay:])
    assert best_offset(a, b) == pytest.approx(delay / 25)
    assert mean_pixel_difference(a, b, offset=best_offset(a, b))["FACE_LANDMARKS"][0] == 0
