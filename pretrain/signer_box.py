"""The signer crop for MAE: one square box per clip around the signer, and a batched crop-and-resize.

The box is fixed for the whole clip so the crop never jitters with the landmarks: it is the
signing-space square (shoulder midpoint ± 1.5 shoulder widths, the pose view's normalization,
which spans the top of the head to the hips and the arms' usual reach), taken at the clip's median
shoulders, grown to hold every keypoint of the body (head, arms, hips), both hands and the face,
then made square with a margin. Keypoints far outside any human reach are detection glitches and
are left out, so one bad frame cannot blow the box up.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from pose_format import Pose

from pose.features import component, signing_space

BODY_UPPER = 25  # MediaPipe pose landmarks 0-24: head, shoulders, arms, hand tips, hips (legs dropped)
PARTS = ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS", "FACE_LANDMARKS")
# Arms stretched out sideways end ~1.7 signing spaces from the shoulder midpoint: anything beyond
# this many is not the signer (or is a glitch) and must not grow the box.
OUTLIER_REACH = 2.5


def _keypoints(pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """The signer's keypoints ``(T, N, 2)`` pixels and found mask ``(T, N)``."""
    body, found = component(pose, "POSE_LANDMARKS")
    points, masks = [body[:, :BODY_UPPER, :2]], [found[:, :BODY_UPPER]]
    names = {c.name for c in pose.header.components}
    for name in PARTS:
        if name in names:
            data, part_found = component(pose, name)
            points.append(data[..., :2])
            masks.append(part_found)
    return np.concatenate(points, 1), np.concatenate(masks, 1)


def signer_box(pose: Pose, margin: float = 0.05) -> np.ndarray:
    """One square box ``(4,)`` = x0, y0, x1, y1 in the pose's pixels around the signer over the whole clip.

    It may extend past the frame (the crop pads with black). Without shoulders in any frame it is the
    square around the found keypoints, and without any keypoint the square around the whole frame.
    """
    points, found = _keypoints(pose)  # (T, N, 2), (T, N)
    centre, size, valid = signing_space(pose)  # (T, 2), (T,), (T,)
    lo = hi = None
    if valid.any():
        c = np.median(centre[valid], 0)
        s = float(np.median(size[valid]))
        lo, hi = c - s, c + s
        found = found & (np.abs(points - c) <= OUTLIER_REACH * s).all(-1)
    if found.any():
        kept = points[found]  # (K, 2)
        lo = kept.min(0) if lo is None else np.minimum(lo, kept.min(0))
        hi = kept.max(0) if hi is None else np.maximum(hi, kept.max(0))
    if lo is None:
        dims = pose.header.dimensions
        lo, hi = np.zeros(2), np.array([dims.width or 1, dims.height or 1], np.float64)
    mid = (lo + hi) / 2
    half = float((hi - lo).max()) / 2 * (1 + 2 * margin)
    return np.array([mid[0] - half, mid[1] - half, mid[0] + half, mid[1] + half], np.float32)


def crop_resize(frames: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Crop each frame to its box and resize to ``size`` x ``size``, all frames in a few tensor ops.

    ``frames`` (B, H, W, 3) uint8 RGB, ``boxes`` (B, 4) x0, y0, x1, y1 in pixels (pixel i spans
    [i, i + 1)); returns (B, 3, size, size) float in [0, 1], black where a box leaves the frame.
    """
    b, h, w, _ = frames.shape
    boxes = boxes.to(frames.device, torch.float32).reshape(b, 4)
    # Only the union of the boxes is converted to float: a 720p batch is mostly background.
    x0 = int(max(0, min(w - 1, np.floor(boxes[:, 0].min().item()))))
    y0 = int(max(0, min(h - 1, np.floor(boxes[:, 1].min().item()))))
    x1 = int(min(w, max(x0 + 1, np.ceil(boxes[:, 2].max().item()))))
    y1 = int(min(h, max(y0 + 1, np.ceil(boxes[:, 3].max().item()))))
    x = frames[:, y0:y1, x0:x1].permute(0, 3, 1, 2).float().div_(255)  # (B, 3, h', w')
    boxes = boxes - boxes.new_tensor([x0, y0, x0, y0])
    # Shrink the batch first (antialiased) so the bilinear sampling below does not skip pixels and alias.
    sides = torch.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]).clamp(min=1e-3)
    scale = min(1.0, float((size / sides).max()))
    if scale < 1.0:
        ph, pw = x.shape[-2:]
        x = F.interpolate(x, scale_factor=scale, mode="bilinear", antialias=True, align_corners=False)
        boxes = boxes * boxes.new_tensor([x.shape[-1] / pw, x.shape[-2] / ph] * 2)
    ch, cw = x.shape[-2:]
    theta = torch.zeros(b, 2, 3, device=x.device)
    theta[:, 0, 0] = (boxes[:, 2] - boxes[:, 0]) / cw
    theta[:, 0, 2] = (boxes[:, 0] + boxes[:, 2]) / cw - 1
    theta[:, 1, 1] = (boxes[:, 3] - boxes[:, 1]) / ch
    theta[:, 1, 2] = (boxes[:, 1] + boxes[:, 3]) / ch - 1
    grid = F.affine_grid(theta, [b, 3, size, size], align_corners=False)  # (B, size, size, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
