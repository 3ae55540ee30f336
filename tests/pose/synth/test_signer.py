"""synthsign's signers: drawn from a seed within adult proportions, arms that keep their lengths, and a
576-point skeleton whose body, hands and face agree with each other."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pose.synth.hands import HANDSHAPES
from pose.synth.signer import (
    FACE_OFFSET,
    LEFT_OFFSET,
    RIGHT_OFFSET,
    SKIN_TONES,
    TOTAL_POINTS,
    WORLD_OFFSET,
    elbows,
    sample_signer,
    skeleton,
)


def test_signers_are_drawn_from_the_seed_within_their_ranges():
    signers = [sample_signer(np.random.default_rng(seed), 256, 256) for seed in range(40)]
    assert sample_signer(np.random.default_rng(3), 256, 256) == signers[3]  # the same seed, the same signer
    assert len({s.shoulder_px for s in signers}) == 40
    for s in signers:
        assert 0.32 * 256 <= s.shoulder_px <= 0.38 * 256 and 0.44 * 256 <= s.centre_x <= 0.56 * 256
        assert 0.8 <= s.tempo <= 1.25 and s.skin in SKIN_TONES
        assert abs(np.mean(s.background) - np.mean(s.shirt)) > 30  # the shirt stands out from the background
    tall = sample_signer(np.random.default_rng(3), 128, 256)  # a portrait frame: the signer shrinks to fit
    assert tall.shoulder_px == pytest.approx(signers[3].shoulder_px * (128 / 256 / 0.75))


def test_the_elbow_keeps_both_arm_lengths_and_hangs_down():
    shoulder = np.array([[0.5, 0.0, 0.0], [-0.5, 0.0, 0.0]])
    wrist = np.array([[0.6, 0.9, -0.4], [-0.2, 0.3, -0.5]])
    elbow = elbows(shoulder, wrist, upper=0.8, fore=0.65, side=1.0)
    np.testing.assert_allclose(np.linalg.norm(elbow - shoulder, axis=-1), 0.8)
    np.testing.assert_allclose(np.linalg.norm(wrist - elbow, axis=-1), 0.65)
    assert (elbow[:, 1] > (shoulder[:, 1] + wrist[:, 1]) / 2).all()  # below the shoulder-wrist line (y down)
    far = elbows(shoulder[:1], np.array([[3.0, 0.0, 0.0]]), 0.8, 0.65, 1.0)  # out of reach: the arm stretches
    assert np.linalg.norm(far - shoulder[:1]) == pytest.approx(0.8)


def test_the_skeletons_parts_agree():
    signer = dataclasses.replace(sample_signer(np.random.default_rng(0), 256, 256), tilt=0.0)
    t = 3
    hand = (np.tile([-0.3, 0.7, -0.3], (t, 1)), np.zeros((t, 3)), np.tile(HANDSHAPES["5"], (t, 1)))
    out = skeleton(signer, np.zeros((t, 2)), hand, hand, np.zeros((t, 5)), np.zeros((t, 3)), 256, 256)
    assert out.shape == (t, TOTAL_POINTS, 3) and np.isfinite(out).all()
    left_shoulder, right_shoulder = out[0, 11, :2], out[0, 12, :2]
    assert left_shoulder[0] - right_shoulder[0] == pytest.approx(signer.shoulder_px)  # one shoulder width apart
    assert (left_shoulder + right_shoulder)[0] / 2 == pytest.approx(signer.centre_x)
    assert left_shoulder[1] == right_shoulder[1] == pytest.approx(signer.centre_y)
    np.testing.assert_allclose(out[:, 16, :2], out[:, RIGHT_OFFSET, :2])  # the body's wrists are the hands' wrists
    np.testing.assert_allclose(out[:, 15, :2], out[:, LEFT_OFFSET, :2])
    # the same own-side track on both hands: mirror images about the body's midline
    np.testing.assert_allclose(out[:, LEFT_OFFSET : LEFT_OFFSET + 21, 0] - signer.centre_x,
                               -(out[:, RIGHT_OFFSET : RIGHT_OFFSET + 21, 0] - signer.centre_x))  # fmt: skip
    face = out[0, FACE_OFFSET:LEFT_OFFSET]
    assert (face[:, 1] < signer.centre_y).all()  # the head above the shoulders
    assert out[0, 0, 1] < signer.centre_y and abs(out[0, 0, 0] - signer.centre_x) < 1  # the nose, on the midline
    hips = out[0, WORLD_OFFSET + 23 : WORLD_OFFSET + 25]
    np.testing.assert_allclose(hips.mean(0), 0, atol=1e-9)  # world landmarks: about the hip midpoint
