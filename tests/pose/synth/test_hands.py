"""synthsign's hands: bones keep their lengths in every handshape, fingers curl toward the palm,
orientations are rotations, and a left hand is the mirror image of a right one."""

from __future__ import annotations

import numpy as np
import pytest

from pose.synth.hands import (
    FINGER_LENGTHS,
    HANDSHAPES,
    ORIENTATIONS,
    PALM_CENTRE,
    THUMB_LENGTHS,
    hand_points,
    posed_hand,
    rotation,
)

SHAPES = np.stack(list(HANDSHAPES.values()))  # (S, 20): every handshape, one per "frame"


def bones(points: np.ndarray, chain: list[int]) -> np.ndarray:
    return np.linalg.norm(np.diff(points[:, chain], axis=1), axis=-1)  # (T, len(chain) - 1)


def test_bones_keep_their_lengths_in_every_handshape():
    points = hand_points(SHAPES)  # (S, 21, 3)
    assert points.shape == (len(HANDSHAPES), 21, 3) and np.allclose(points[:, 0], 0)  # the wrist is the origin
    for f in range(4):
        mcp = 5 + 4 * f
        np.testing.assert_allclose(
            bones(points, [mcp, mcp + 1, mcp + 2, mcp + 3]), np.broadcast_to(FINGER_LENGTHS[f], (len(SHAPES), 3))
        )
    np.testing.assert_allclose(bones(points, [1, 2, 3, 4]), np.broadcast_to(THUMB_LENGTHS, (len(SHAPES), 3)), atol=1e-9)


def test_the_open_hand_points_up_and_a_fist_curls_toward_the_palm():
    flat, fist = hand_points(np.stack([HANDSHAPES["B"], HANDSHAPES["S"]]))
    tips = [8, 12, 16, 20]
    assert (flat[tips, 1] < -0.7).all() and np.allclose(flat[tips, 2], 0)  # straight up, in the palm's plane
    assert np.linalg.norm(flat[12]) == pytest.approx(1.0, abs=0.05)  # about one hand length to the middle tip
    assert (np.linalg.norm(fist[tips], axis=-1) < 0.6).all()  # curled in ...
    assert (fist[tips, 2] < 0).all()  # ... toward the palm side (the palm faces the camera: -z)


@pytest.mark.parametrize("name", sorted(ORIENTATIONS))
def test_orientations_are_rotations(name):
    r = rotation(np.array([ORIENTATIONS[name]], float))[0]
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_posing_places_the_palm_scales_and_mirrors():
    shape = HANDSHAPES["5"][None]
    centre = np.array([[100.0, 200.0, 0.0]])
    zero = np.zeros((1, 3))
    right = posed_hand(shape, zero, centre, 50.0, mirror=False)[0]
    np.testing.assert_allclose(right, (hand_points(shape)[0] - PALM_CENTRE) * 50 + centre[0])
    left = posed_hand(shape, zero, centre, 50.0, mirror=True)[0]
    np.testing.assert_allclose(left[:, 0] - 100, -(right[:, 0] - 100))  # the mirror image about the palm centre
    np.testing.assert_allclose(left[:, 1:], right[:, 1:])
    turned = posed_hand(shape, np.array([[0.0, 0.0, 90.0]]), centre, 50.0, mirror=False)[0]  # roll 90
    fingers = turned[12] - turned[0]
    assert abs(fingers[1]) < 0.1 * abs(fingers[0])  # the fingers now lie sideways in the image plane
