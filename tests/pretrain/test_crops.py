"""Face and hand crops that follow the landmarks (DINO's input)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pose.io import read_pose
from pose.synth.render import LEFT_HAND_COLOUR, RIGHT_HAND_COLOUR
from pose.video import VideoStream
from pretrain.crops import FACE, LEFT, RIGHT, CropConfig, box_crops, part_boxes, part_crops
from tests.pretrain.conftest import first_clip, offsets


@pytest.fixture(scope="module")
def synth(rendered_document) -> Path:
    """One rendered synthsign document (``rendered_document`` in conftest.py), by the name these tests take."""
    return rendered_document


def colour_share(crop: torch.Tensor, colour) -> float:
    """Share of a crop's ``(3, S, S)`` pixels close to an RGB colour."""
    diff = (crop.int() - torch.tensor(colour)[:, None, None]).abs().sum(0)
    return float((diff < 60).float().mean())


def test_hand_crops_contain_the_hand_keypoints(synth):
    pose_path, video = first_clip(synth)
    pose = read_pose(pose_path)
    config = CropConfig(size=48)
    boxes = part_boxes(pose, config, (256, 256))
    start = offsets(pose)
    for part, name in ((LEFT, "LEFT_HAND_LANDMARKS"), (RIGHT, "RIGHT_HAND_LANDMARKS")):
        pts = pose.body.data.data[:, 0, start[name] : start[name] + 21, :2]  # (T, 21, 2)
        found = boxes.found[:, part]
        assert found.mean() > 0.8
        box = boxes.boxes[found, part]  # (F, 4)
        p = pts[found]
        assert (p[..., 0] > box[:, None, 0]).all() and (p[..., 0] < box[:, None, 2]).all()
        assert (p[..., 1] > box[:, None, 1]).all() and (p[..., 1] < box[:, None, 3]).all()
        assert np.allclose(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])  # square
    frames = np.stack(list(VideoStream(video).frames()))
    crops = part_crops(frames, boxes, config.size)  # (T, 3, 3, S, S)
    assert crops.shape == (len(frames), 3, 3, 48, 48) and crops.dtype == torch.uint8
    complete = np.flatnonzero(boxes.found.all(1))
    t = int(complete[len(complete) // 2])
    # the rendered hands are drawn in their own colours: each hand crop shows its hand, the face crop neither
    assert colour_share(crops[t, RIGHT], RIGHT_HAND_COLOUR) > 0.03
    assert colour_share(crops[t, LEFT], LEFT_HAND_COLOUR) > 0.03
    assert colour_share(crops[t, FACE], RIGHT_HAND_COLOUR) < colour_share(crops[t, RIGHT], RIGHT_HAND_COLOUR)
    # the left hand is mirrored: the same box sampled right to left
    plain = part_crops(frames[t : t + 1], part_boxes(pose, CropConfig(size=48, mirror_left=False))[t : t + 1], 48)
    assert (plain[0, LEFT].flip(-1).int() - crops[t, LEFT].int()).abs().max() <= 1
    assert torch.equal(plain[0, RIGHT], crops[t, RIGHT])
    # generic boxes: a box covering the frame exactly reproduces a downscaled frame
    whole = box_crops(frames[:2], np.array([[[0, 0, 256, 256]]] * 2, np.float32), 128)  # (2, 1, 3, 128, 128)
    ref = torch.as_tensor(frames[:2]).permute(0, 3, 1, 2).float().reshape(2, 3, 128, 2, 128, 2).mean((3, 5))
    assert (whole[:, 0].float() - ref).abs().mean() < 1.0
