"""The signer's box (shoulders and hands, square, robust to a glitch) and the batched crop MAE reads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pose.features import component
from pose.io import read_pose
from pretrain.data import PretrainData, list_clips
from pretrain.signer_box import crop_resize, signer_box


@pytest.fixture(scope="module")
def synth(rendered_train) -> PretrainData:
    """synthsign tiny's rendered train split (``rendered_train`` in conftest.py), by the name these tests take."""
    return rendered_train


def test_signer_box_holds_shoulders_and_hands_and_is_square(synth):
    for clip in list_clips(synth)[:6]:
        pose = read_pose(clip.pose)
        x0, y0, x1, y1 = signer_box(pose)
        assert x1 - x0 == pytest.approx(y1 - y0)
        body, found = component(pose, "POSE_LANDMARKS")
        points = [body[:, [11, 12], :2][found[:, [11, 12]]]]
        for hand in ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"):
            data, hand_found = component(pose, hand)
            points.append(data[..., :2][hand_found])
        pts = np.concatenate(points)
        assert len(pts) > 100
        assert (pts[:, 0] >= x0).all() and (pts[:, 0] <= x1).all()
        assert (pts[:, 1] >= y0).all() and (pts[:, 1] <= y1).all()


def test_signer_box_ignores_a_glitch_and_falls_back_without_shoulders(synth):
    pose = read_pose(list_clips(synth)[0].pose)
    box = signer_box(pose)
    start = next(i for i, c in enumerate(pose.header.components) if c.name == "LEFT_HAND_LANDMARKS")
    start = sum(len(c.points) for c in pose.header.components[:start])
    pose.body.data.data[3, 0, start, :2] = 1e5  # one hand point thrown far away in one frame
    pose.body.confidence[3, 0, start] = 1
    np.testing.assert_allclose(signer_box(pose), box)
    pose.body.confidence[:, 0, 11:13] = 0  # no shoulders anywhere: the box of the found keypoints
    fallback = signer_box(pose)
    assert fallback[2] - fallback[0] > 0 and np.isfinite(fallback).all()


def test_crop_resize_is_batched_and_pads_outside_the_frame():
    frames = torch.zeros(2, 40, 60, 3, dtype=torch.uint8)
    frames[0, 10:30, 20:40] = torch.tensor([255, 0, 0], dtype=torch.uint8)  # a red square
    frames[1] = 255
    boxes = torch.tensor([[20.0, 10.0, 40.0, 30.0], [-30.0, -20.0, 30.0, 40.0]])  # 2nd: top-left quarter off-frame
    out = crop_resize(frames, boxes, 16)  # (2, 3, 16, 16)
    assert out.shape == (2, 3, 16, 16)
    # inside the square: red (its rim is softened by the antialiased shrink from 20 to 16 px)
    assert torch.allclose(out[0, 0, 1:-1, 1:-1], torch.ones(14, 14)) and out[0, 1:].abs().max() < 1e-6
    assert out[1, :, :6, :6].abs().max() < 1e-6  # outside the frame: black
    assert torch.allclose(out[1, :, 10:, 10:], torch.ones(3, 6, 6))
