from __future__ import annotations

import numpy as np
import pytest
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody

from pose.config import HolisticConfig
from pose.features import (
    FACE_37,
    POSE_DIM,
    SIGN2VEC_DIM,
    holistic_problem,
    local_normalize,
    pose_view_208,
    sign2vec_view_255,
)
from pose.holistic import holistic_header
from pose.io import read_pose
from tests.conftest import realdata


def synthetic_pose(frames: int = 3, refine: bool = False, right_hand: bool = True) -> Pose:
    """A Holistic pose with known geometry: shoulders at x=100/300, y=200 (width 200 px)."""
    header = holistic_header(640, 480, HolisticConfig(backend="legacy", refine_face_landmarks=refine))
    n = header.total_points()
    rng = np.random.default_rng(0)
    data = rng.uniform(50, 400, (frames, 1, n, 3)).astype(np.float32)
    conf = np.ones((frames, 1, n), np.float32)
    data[:, 0, 11, :2] = (300, 200)  # left shoulder
    data[:, 0, 12, :2] = (100, 200)  # right shoulder
    face_n = 478 if refine else 468
    rh = 33 + face_n + 21
    if not right_hand:
        conf[:, 0, rh : rh + 21] = 0
        data[:, 0, rh : rh + 21] = 0
    return Pose(header, NumPyPoseBody(fps=25, data=data, confidence=conf))


def other_skeleton_pose(tool: str, frames: int = 4) -> Pose:
    """A pose as another tool writes it with pose-format (2-D points in pixels): ``openpose`` (BODY_25,
    137 points), ``alphapose`` (Halpe 136), ``coco`` (COCO whole-body 133: MMPose, RTMPose), or
    ``reduced`` (a Holistic through pose-format's ``reduce_holistic``)."""
    import copy

    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions
    from pose_format.utils.alphapose import get_alphapose_components
    from pose_format.utils.cocowholebody133_header import cocowholebody_components
    from pose_format.utils.generic import reduce_holistic
    from pose_format.utils.openpose import OpenPose_Components

    if tool == "reduced":
        return reduce_holistic(synthetic_pose(frames))
    components = {
        "openpose": lambda: copy.deepcopy(OpenPose_Components),
        "alphapose": get_alphapose_components,
        "coco": cocowholebody_components,
    }[tool]()
    header = PoseHeader(0.2, PoseHeaderDimensions(640, 480), components)
    n = header.total_points()
    data = np.random.default_rng(0).uniform(50, 400, (frames, 1, n, 2)).astype(np.float32)
    return Pose(header, NumPyPoseBody(fps=25, data=data, confidence=np.ones((frames, 1, n), np.float32)))


def test_dimensions_and_masks():
    feats, mask = pose_view_208(synthetic_pose())
    assert feats.shape == (3, POSE_DIM) == (3, 208) and mask.shape == (3, 104)
    s2v, s2v_mask = sign2vec_view_255(synthetic_pose())
    assert s2v.shape == (3, SIGN2VEC_DIM) == (3, 255) and s2v_mask.shape == (3, 85)
    assert mask.all() and s2v_mask.all()


def test_body_is_in_signing_space():
    feats, _ = pose_view_208(synthetic_pose())
    body = feats[:, :50].reshape(3, 25, 2)
    # signing space = 1.5 x 200 px centred on (200, 200): shoulders at x = +-100/300
    np.testing.assert_allclose(body[:, 11], [[1 / 3, 0]] * 3, atol=1e-6)
    np.testing.assert_allclose(body[:, 12], [[-1 / 3, 0]] * 3, atol=1e-6)


def test_hands_and_face_are_local_in_unit_square():
    feats, _ = pose_view_208(synthetic_pose())
    local = feats[:, 50:].reshape(3, 79, 2)
    assert np.abs(local).max() <= 1 / 1.4 + 1e-6  # 20 % padding on each side of the square box
    rh = local[:, :21]
    assert np.isclose(np.abs(rh).max(axis=(1, 2)), 1 / 1.4, atol=1e-6).all()  # the long side touches the pad


def test_missing_hand_is_masked_not_silently_zero():
    feats, mask = pose_view_208(synthetic_pose(right_hand=False))
    assert not mask[:, 25:46].any() and mask[:, 46:].all()
    assert (feats[:, 50:92] == 0).all()


def test_local_normalize_degenerate_box():
    pts = np.ones((2, 5, 2), np.float32)
    out = local_normalize(pts, np.ones((2, 5), bool))
    assert np.isfinite(out).all() and (out == 0).all()


def test_iris_fallback_without_refined_face():
    plain, refined = synthetic_pose(refine=False), synthetic_pose(refine=True)
    f_plain, m_plain = pose_view_208(plain)
    assert m_plain.all() and len(FACE_37) == 37
    f_ref, _ = pose_view_208(refined)
    assert f_ref.shape == f_plain.shape


def test_real_pose_views():
    pose = read_pose(realdata("pose_pairs", "what_is_your_name.reference.pose"))
    feats, mask = pose_view_208(pose)
    assert np.isfinite(feats).all()
    assert mask[:, :25].mean() > 0.9  # the body is visible in nearly every frame
    assert np.abs(feats[:, 50:])[mask[:, 25:].repeat(2, 1)].max() <= 1.0
    s2v, _ = sign2vec_view_255(pose)
    assert np.isfinite(s2v).all() and s2v.shape == (len(pose.body.data), 255)


@pytest.mark.parametrize("view", [pose_view_208, sign2vec_view_255])
def test_views_reject_non_holistic(view):
    pose = synthetic_pose()
    pose.header.components[0].name = "BODY"
    with pytest.raises(KeyError, match="POSE_LANDMARKS"):
        view(pose)


def test_holistic_poses_have_no_problem():
    assert holistic_problem(synthetic_pose().header) is None
    assert holistic_problem(synthetic_pose(refine=True).header) is None  # 478 face points


@pytest.mark.parametrize(
    "tool, says",
    [
        ("openpose", "an OpenPose BODY_25 pose, not MediaPipe Holistic: it has pose_keypoints_2d (25 points)"),
        ("alphapose", "an AlphaPose Halpe 136 pose, not MediaPipe Holistic: it has BODY_136 (26 points)"),
        ("coco", "a COCO whole-body 133 (MMPose, RTMPose) pose, not MediaPipe Holistic: it has BODY (23 points)"),
        ("reduced", "not MediaPipe Holistic's points (other points in POSE_LANDMARKS, FACE_LANDMARKS"),
    ],
)
def test_another_skeleton_says_what_it_has_and_what_the_model_needs(tool, says):
    problem = holistic_problem(other_skeleton_pose(tool).header)
    assert problem.startswith(says) and "\n" not in problem
    assert "the model needs MediaPipe Holistic's POSE_LANDMARKS (33 points), FACE_LANDMARKS (468 or 478)" in problem
    if tool == "openpose":  # the one pose-format converts: the way to do it, which the test below follows
        assert "pose_format.utils.pose_converter.convert_pose(pose, pose.topology.holistic_components())" in problem
    else:
        assert "extract the video's poses with `signllava extract-poses`" in problem


def test_the_conversion_the_message_names_gives_a_pose_the_views_read():
    pytest.importorskip("mediapipe.python.solutions.holistic")  # pose-format's converter imports it
    from pose_format.utils.pose_converter import convert_pose

    from pose.topology import holistic_components

    converted = convert_pose(other_skeleton_pose("openpose"), holistic_components())
    assert holistic_problem(converted.header) is None
    assert pose_view_208(converted)[0].shape == (4, 208)


def test_a_holistic_without_its_hands_is_named():
    pose = synthetic_pose()
    problem = holistic_problem(pose.get_components(["POSE_LANDMARKS", "FACE_LANDMARKS"]).header)
    assert problem.startswith("not a whole MediaPipe Holistic pose (no LEFT_HAND_LANDMARKS, RIGHT_HAND_LANDMARKS)")
