from __future__ import annotations

import numpy as np
import pytest
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody

from pose.config import HolisticConfig
from pose.features import FACE_37, POSE_DIM, SIGN2VEC_DIM, local_normalize, pose_view_208, sign2vec_view_255
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
