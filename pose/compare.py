"""Compare two Holistic poses of the same video, frame by frame in time (fps may differ).

Two extractions of one recording made from different encodings can disagree on frame rate and
on when the first frame starts; :func:`best_offset` finds the constant time shift that lines
them up (on the face, the densest and steadiest component) before differences are measured.
"""

from __future__ import annotations

import numpy as np
from pose_format import Pose

from .features import component

IMAGE_COMPONENTS = ("POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")


def matching_frames(a: Pose, b: Pose, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices ``(ia, ib)``: each frame of ``a`` at time t with ``b``'s frame nearest t + offset."""
    fa, fb = float(a.body.fps), float(b.body.fps)
    ia = np.arange(len(a.body.data))
    ib = np.rint((ia / fa + offset) * fb).astype(int)
    keep = (ib >= 0) & (ib < len(b.body.data))
    return ia[keep], ib[keep]


def mean_pixel_difference(
    a: Pose, b: Pose, components=IMAGE_COMPONENTS, offset: float = 0.0
) -> dict[str, tuple[float, int]]:
    """Per component: mean |a - b| of x and y in pixels over points found in both, and that count."""
    ia, ib = matching_frames(a, b, offset)
    out = {}
    for name in components:
        da, fa = component(a, name)
        db, fb = component(b, name)
        n = min(da.shape[1], db.shape[1])
        both = fa[ia, :n] & fb[ib, :n]  # (T, n)
        diff = np.abs(da[ia, :n, :2] - db[ib, :n, :2])  # (T, n, 2)
        count = int(both.sum())
        out[name] = (float(diff[both].mean()) if count else float("nan"), count)
    return out


def found_agreement(a: Pose, b: Pose, components=IMAGE_COMPONENTS) -> dict[str, tuple[int, int]]:
    """Per component: in how many of the frames (same index in both) ``a`` and ``b`` both found it or
    both missed it, and the number of frames."""
    n = min(len(a.body.data), len(b.body.data))
    out = {}
    for name in components:
        fa = component(a, name)[1][:n].any(axis=1)  # (T,) found in this frame
        fb = component(b, name)[1][:n].any(axis=1)
        out[name] = (int((fa == fb).sum()), n)
    return out


def best_offset(a: Pose, b: Pose, max_offset: float = 0.2) -> float:
    """The time shift of ``b`` against ``a`` (seconds, within +-max_offset) that best aligns faces."""
    step = 1.0 / (2 * max(float(a.body.fps), float(b.body.fps)))
    candidates = np.arange(-max_offset, max_offset + step / 2, step)
    scores = [mean_pixel_difference(a, b, ("FACE_LANDMARKS",), off)["FACE_LANDMARKS"][0] for off in candidates]
    scores = np.nan_to_num(np.asarray(scores), nan=np.inf)
    return float(candidates[int(np.argmin(scores))])
