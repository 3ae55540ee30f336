"""synthsign's face: a 468-point mesh in face units, expressions that move the right parts, head rotation."""

from __future__ import annotations

import numpy as np
import pytest

from pose.synth.face import EXPRESSIONS, FACE_POINTS, face_points, layout, template


def with_expression(name: str, strength: float = 1.0) -> np.ndarray:
    weights = np.zeros((1, len(EXPRESSIONS)))
    weights[0, EXPRESSIONS.index(name)] = strength
    return face_points(weights, np.zeros((1, 3)))[0]


def test_the_neutral_face_spans_forehead_to_chin():
    face = template()
    assert face.shape == (FACE_POINTS, 3) and np.isfinite(face).all()
    assert face[10, 1] == pytest.approx(-0.5) and face[152, 1] == pytest.approx(0.5)  # forehead top, chin
    assert face[:, 1].min() >= -0.5 - 1e-9 and face[:, 1].max() <= 0.5 + 1e-9  # nothing beyond them
    assert int(np.argmin(face[:, 2])) in (1, 4)  # the nose tip is nearest the camera
    assert np.abs(face[:, 0]).max() < 0.5
    np.testing.assert_allclose(face_points(np.zeros((2, 5)), np.zeros((2, 3))), np.stack([face, face]), atol=1e-12)


def test_expressions_move_their_part_of_the_face():
    neutral = template()
    groups = layout()[1]
    brows, lower_lip, upper_lid = (sorted(groups[k]) for k in ("brows", "lower_lip", "upper_lid"))
    assert (with_expression("brow_up")[brows, 1] < neutral[brows, 1]).all()  # up is -y
    assert (with_expression("brow_down")[brows, 1] > neutral[brows, 1]).all()
    assert with_expression("mouth_open")[lower_lip, 1].mean() > neutral[lower_lip, 1].mean() + 0.03
    assert with_expression("mouth_open")[152, 1] > neutral[152, 1]  # the jaw drops with the lip
    assert (with_expression("blink")[upper_lid, 1] > neutral[upper_lid, 1]).all()  # the lids come down
    lips = sorted(groups["lips"])
    assert np.ptp(with_expression("mouth_wide")[lips, 0]) > np.ptp(neutral[lips, 0])
    half = with_expression("brow_up", 0.5)  # strengths blend linearly
    np.testing.assert_allclose(half, (neutral + with_expression("brow_up")) / 2, atol=1e-12)
    forehead = with_expression("mouth_open")[10]
    np.testing.assert_allclose(forehead, neutral[10], atol=1e-6)  # far from the mouth, nothing moves


def test_the_head_turns_about_a_pivot_inside_it():
    neutral = template()
    turned = face_points(np.zeros((1, 5)), np.array([[30.0, 0.0, 0.0]]))[0]  # yaw 30 degrees
    assert abs(turned[1, 0] - neutral[1, 0]) > 0.1  # the nose tip swings sideways
    pivot = np.array([0.0, 0.15, 0.35])
    np.testing.assert_allclose(np.linalg.norm(turned - pivot, axis=1), np.linalg.norm(neutral - pivot, axis=1))
