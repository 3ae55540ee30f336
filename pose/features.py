"""Normalized per-frame feature views of a Holistic pose, used by the encoders and projectors.

Two views, both in the point order **body, right hand, left hand, face** (the JSALT 2024 order):

``pose208`` — 104 keypoints x (x, y) = 208 values per frame (the SignLLaVA "pose" stream):
  * body: MediaPipe pose landmarks 0-24 (nose, eyes, ears, mouth, shoulders, elbows, wrists,
    hand tips, hips; the legs 25-32 are dropped), centred on the shoulder midpoint and divided by
    the signing space, 1.5 x the shoulder width (landmarks 11 and 12), on both axes;
  * right hand, left hand: the 21 hand landmarks, each hand normalized locally to [-1, 1]: its
    bounding box is made square around its centre, padded by 20 % of the side on every side;
  * face: the 37 face-mesh landmarks in :data:`FACE_37`, normalized locally like a hand.

``sign2vec255`` — 85 keypoints x (x, y, z) = 255 values per frame (the Sign2Vec input):
  * body: the 6 landmarks :data:`BODY_6` (shoulders 11/12, elbows 13/14, hips 23/24);
  * right hand 21, left hand 21, face :data:`FACE_37`;
  * every point in the body's signing space (shoulder-midpoint origin, 1.5 x shoulder width), so
    hands keep their position relative to the body; z is MediaPipe's depth (in units of the image
    width) converted to pixels and divided by the same signing-space size.

Coordinates are pixels as stored in our .pose files (and pose-format's). Missing parts are never
silently zero: each view returns a boolean mask per keypoint ``(T, K)`` that is False where
MediaPipe found nothing (the values there are 0) — or, for body-relative values, where the
shoulders are missing.

MediaPipe's iris centres 468 and 473 only exist with ``refine_face_landmarks``; for a 468-point
face they are taken as the midpoint of the eye corners (33, 133) and (362, 263).
"""

from __future__ import annotations

import numpy as np
from pose_format import Pose
from pose_format.pose_header import PoseHeader

BODY_25 = list(range(25))
BODY_6 = [11, 12, 13, 14, 23, 24]
L_SHOULDER, R_SHOULDER = 11, 12
FACE_37 = [
    0,
    4,
    13,
    14,
    17,
    33,
    39,
    46,
    52,
    55,
    61,
    64,
    81,
    93,
    133,
    151,
    152,
    159,
    172,
    178,
    181,
    263,
    269,
    276,
    282,
    285,
    291,
    294,
    311,
    323,
    362,
    386,
    397,
    402,
    405,
    468,
    473,
]
IRIS_FALLBACK = {468: (33, 133), 473: (362, 263)}
SIGNING_SPACE = 1.5  # x shoulder width
LOCAL_PADDING = 0.2  # of the square side, on each side

POSE_DIM = 2 * (25 + 21 + 21 + 37)  # 208
SIGN2VEC_DIM = 3 * (6 + 21 + 21 + 37)  # 255

# What a .pose file must hold for the views to read it, as a user is told it
HOLISTIC_NEEDED = (
    "MediaPipe Holistic's POSE_LANDMARKS (33 points), FACE_LANDMARKS (468 or 478), "
    "LEFT_HAND_LANDMARKS (21) and RIGHT_HAND_LANDMARKS (21)"
)
# the skeletons pose-format knows (pose_format.utils.generic.detect_known_pose_format), by the name users know
OTHER_TOOLS = {
    "openpose": "OpenPose BODY_25",
    "openpose_135": "OpenPose 135",
    "alphapose_133": "AlphaPose whole-body 133",
    "alphapose_136": "AlphaPose Halpe 136",
    "coco_wholebody_133": "COCO whole-body 133 (MMPose, RTMPose)",
}
EXTRACT_AGAIN = "extract the video's poses with `signllava extract-poses`"


def _needed_points() -> dict[str, list[str]]:
    """The leading points each component must have, by name and in Holistic's order: the views index
    the body's 0-24, the face mesh's 0-467 and every hand point by position."""
    from .topology import body_points, hand_points

    return {
        "POSE_LANDMARKS": body_points()[:25],
        "FACE_LANDMARKS": [str(i) for i in range(468)],
        "LEFT_HAND_LANDMARKS": hand_points(),
        "RIGHT_HAND_LANDMARKS": hand_points(),
    }


def _known_tool(header: PoseHeader) -> str | None:
    from pose_format.utils.generic import detect_known_pose_format

    try:
        return detect_known_pose_format(header)
    except (ValueError, ImportError):
        return None


def holistic_problem(header: PoseHeader) -> str | None:
    """Why the views cannot read a pose with this header, in one line (what it has, what the model
    needs, how to get that); None when they can.

    Checked where a .pose file is read for the model, so that a file from another tool or skeleton
    (OpenPose, MMPose, AlphaPose), or a Holistic with points left out (pose-format's
    ``reduce_holistic``), is refused by name rather than indexed as if it were MediaPipe's."""
    have = {c.name: list(c.points) for c in header.components}
    wrong = [name for name, points in _needed_points().items() if have.get(name, [])[: len(points)] != points]
    if not wrong:
        return None
    counts = [f"{c.name} ({len(c.points)}{' points' if i == 0 else ''})" for i, c in enumerate(header.components)]
    listed = ", ".join(counts) or "no components"
    tool = _known_tool(header)
    if tool in OTHER_TOOLS:
        name = OTHER_TOOLS[tool]
        what = f"{'an' if name[0] in 'AEIOU' else 'a'} {name} pose, not MediaPipe Holistic"
    elif any(name in have for name in wrong):
        differ = ", ".join(name for name in wrong if name in have)
        reduced = "a reduced Holistic, e.g. pose-format's reduce_holistic?"
        what = f"not MediaPipe Holistic's points (other points in {differ}: {reduced})"
    elif tool == "holistic":
        what = f"not a whole MediaPipe Holistic pose (no {', '.join(wrong)})"
    else:
        what = "not a MediaPipe Holistic pose"
    if tool == "holistic":
        how = f"the points left out cannot be brought back: {EXTRACT_AGAIN}"
    elif tool == "openpose":
        how = (
            "pose-format converts OpenPose to Holistic: pose_format.utils.pose_converter.convert_pose(pose, "
            f"pose.topology.holistic_components()); or {EXTRACT_AGAIN}"
        )
    else:
        how = f"pose-format has no converter from it to Holistic: {EXTRACT_AGAIN}"
    return f"{what}: it has {listed}; the model needs {HOLISTIC_NEEDED}; {how}"


def component(pose: Pose, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One component of the first person: data ``(T, N, 3)`` float32, found ``(T, N)`` bool."""
    start = 0
    for c in pose.header.components:
        if c.name == name:
            end = start + len(c.points)
            data = np.asarray(pose.body.data.data[:, 0, start:end, :3], np.float32)
            conf = np.asarray(pose.body.confidence[:, 0, start:end])
            if data.shape[-1] < 3:  # a 2-D pose: no depth
                data = np.concatenate([data, np.zeros(data.shape[:-1] + (3 - data.shape[-1],), np.float32)], -1)
            return data, conf > 0
        start += len(c.points)
    raise KeyError(f"pose has no component {name!r} (it has {[c.name for c in pose.header.components]})")


def _face37(pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    data, found = component(pose, "FACE_LANDMARKS")
    n = data.shape[1]
    cols, masks = [], []
    for i in FACE_37:
        if i < n:
            cols.append(data[:, i])
            masks.append(found[:, i])
        else:
            a, b = IRIS_FALLBACK[i]
            cols.append((data[:, a] + data[:, b]) / 2)
            masks.append(found[:, a] & found[:, b])
    return np.stack(cols, 1), np.stack(masks, 1)


def _parts(pose: Pose, body_idx: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    body, body_found = component(pose, "POSE_LANDMARKS")
    return [
        (body[:, body_idx], body_found[:, body_idx]),
        component(pose, "RIGHT_HAND_LANDMARKS"),
        component(pose, "LEFT_HAND_LANDMARKS"),
        _face37(pose),
    ]


def signing_space(pose: Pose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: shoulder midpoint ``(T, 2)``, signing-space size ``(T,)``, valid ``(T,)``."""
    body, found = component(pose, "POSE_LANDMARKS")
    left, right = body[:, L_SHOULDER, :2], body[:, R_SHOULDER, :2]
    centre = (left + right) / 2
    size = SIGNING_SPACE * np.linalg.norm(left - right, axis=-1)
    # shoulders closer than float32 tells apart where they are are one point: no signing space to scale by
    apart = size > 1e-6 * np.maximum(np.abs(centre).max(-1), 1)
    valid = found[:, L_SHOULDER] & found[:, R_SHOULDER] & apart
    return centre, np.where(valid, size, 1.0), valid


def local_normalize(points: np.ndarray, found: np.ndarray) -> np.ndarray:
    """``(T, N, 2)`` -> [-1, 1] within each frame's padded square bounding box of found points."""
    big = np.float32(1e9)
    lo = np.where(found[..., None], points, big).min(1)  # (T, 2)
    hi = np.where(found[..., None], points, -big).max(1)
    any_found = found.any(1)
    centre = np.where(any_found[:, None], (lo + hi) / 2, 0)
    side = np.where(any_found, (hi - lo).max(-1), 0)  # (T,)
    half = side / 2 * (1 + 2 * LOCAL_PADDING)
    out = (points - centre[:, None]) / np.where(half > 0, half, 1)[:, None, None]
    return np.where(found[..., None], out, 0).astype(np.float32)


def pose_view_208(pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """The 208-value view: features ``(T, 208)`` float32 and found mask ``(T, 104)`` bool."""
    (body, body_found), *local = _parts(pose, BODY_25)
    centre, size, valid = signing_space(pose)
    body_found = body_found & valid[:, None]
    body_xy = (body[..., :2] - centre[:, None]) / size[:, None, None]
    blocks = [np.where(body_found[..., None], body_xy, 0)]
    masks = [body_found]
    for pts, found in local:
        blocks.append(local_normalize(pts[..., :2], found))
        masks.append(found)
    feats = np.concatenate(blocks, 1).reshape(len(body), -1).astype(np.float32)
    return feats, np.concatenate(masks, 1)


def sign2vec_view_255(pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """The 255-value Sign2Vec view: features ``(T, 255)`` float32 and found mask ``(T, 85)`` bool."""
    parts = _parts(pose, BODY_6)
    centre, size, valid = signing_space(pose)
    width = float(pose.header.dimensions.width or 1)
    pts = np.concatenate([p for p, _ in parts], 1)  # (T, 85, 3)
    found = np.concatenate([f for _, f in parts], 1) & valid[:, None]
    xy = (pts[..., :2] - centre[:, None]) / size[:, None, None]
    z = pts[..., 2:] * width / size[:, None, None]
    feats = np.where(found[..., None], np.concatenate([xy, z], -1), 0)
    return feats.reshape(len(pts), -1).astype(np.float32), found


def frame_span(fps: float, start: float, end: float, num_frames: int) -> tuple[int, int]:
    """Frames ``[first, last)`` of a ``num_frames``-long sequence at ``fps`` inside ``[start, end)``
    seconds (nearest frame boundaries, clipped to the sequence)."""
    first = min(num_frames, max(0, round(start * fps)))
    last = min(num_frames, max(first, round(end * fps)))
    return first, last
