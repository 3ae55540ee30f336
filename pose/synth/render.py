"""Draw synthetic signers as simple videos (body, face and each hand in its own colour) for the
image encoders, from the clean landmarks: the video shows a hand even on frames where the pose
stream "lost" it, as a real video does."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .signer import FACE_OFFSET, LEFT_OFFSET, RIGHT_OFFSET, Signer

RIGHT_HAND_COLOUR = (235, 80, 40)  # RGB, saturated: backgrounds and shirts are muted
LEFT_HAND_COLOUR = (40, 150, 235)
FACE_LINE = (70, 40, 30)
ARM_POINTS = ((12, 14), (14, 16), (11, 13), (13, 15))


def _face_parts() -> tuple[list[int], list[tuple[int, int]]]:
    """Face oval as an ordered polygon, and the contour edges (eyes, brows, lips)."""
    from ..topology import face_mesh_connections
    from .face import _paths

    fm = face_mesh_connections()
    a, b = _paths(fm.FACEMESH_FACE_OVAL, 10, 152)
    oval = a + b[::-1][1:-1]
    edges = [e for s in (fm.FACEMESH_LIPS, fm.FACEMESH_LEFT_EYE, fm.FACEMESH_RIGHT_EYE) for e in s]
    edges += [e for s in (fm.FACEMESH_LEFT_EYEBROW, fm.FACEMESH_RIGHT_EYEBROW, fm.FACEMESH_NOSE) for e in s]
    return oval, sorted(edges)


def draw_frames(clean: np.ndarray, signer: Signer, width: int, height: int) -> Iterator[np.ndarray]:
    """RGB frames ``(H, W, 3)`` uint8 of the clean landmarks ``(T, 576, 3)``."""
    import cv2

    from ..topology import hand_limbs

    oval, edges = _face_parts()
    face_edges, hand_edges = np.array(edges), np.array(hand_limbs())  # (E, 2) point pairs
    scale = 16  # cv2 draws at 1/16 pixel precision with shift=4
    thick = max(1, round(width / 160))
    shirt, skin = signer.shirt, signer.skin
    sleeve = tuple(int(c * 0.8) for c in shirt)  # a shade darker, so arms show in front of the torso
    oval_points = FACE_OFFSET + np.array(oval)
    background = np.empty((height, width, 3), np.uint8)
    background[:] = signer.background
    aa = cv2.LINE_AA
    for frame in clean:
        img = background.copy()
        p = np.round(frame[:, :2] * scale).astype(np.int32)
        body = p[:33]
        torso = np.array([body[12], body[11], body[23], body[24]])
        neck_w = signer.shoulder_px * 0.12 * scale
        chin = p[FACE_OFFSET + 152]
        bases = (body[12] * 0.7 + body[11] * 0.3, body[11] * 0.7 + body[12] * 0.3)
        neck = np.array([bases[0], chin + [-neck_w, 0], chin + [neck_w, 0], bases[1]]).astype(np.int32)
        cv2.fillConvexPoly(img, neck, skin, aa, 4)
        cv2.fillConvexPoly(img, torso, shirt, aa, 4)
        for a, b in ARM_POINTS:
            cv2.line(img, tuple(body[a]), tuple(body[b]), sleeve, 4 * thick, aa, 4)
        cv2.fillPoly(img, [p[oval_points]], skin, aa, 4)
        # one polylines call per part: a list of 2-point segments
        cv2.polylines(img, list(p[FACE_OFFSET + face_edges]), False, FACE_LINE, 1, aa, 4)
        for offset, colour in ((LEFT_OFFSET, LEFT_HAND_COLOUR), (RIGHT_OFFSET, RIGHT_HAND_COLOUR)):
            hand = p[offset : offset + 21]
            cv2.fillConvexPoly(img, hand[[0, 1, 5, 9, 13, 17]], colour, aa, 4)
            cv2.polylines(img, list(hand[hand_edges]), False, colour, thick + 1, aa, 4)
        yield img


def write_mp4(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float) -> int:
    """Encode RGB frames to an H.264 ``.mp4`` (one encoder thread: workers already fill the cores)."""
    import av

    n = 0
    with av.open(str(Path(path)), "w", format="mp4") as container:
        stream = None
        for rgb in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=round(fps) or 25, options={"preset": "veryfast"})
                stream.width, stream.height = rgb.shape[1] // 2 * 2, rgb.shape[0] // 2 * 2
                stream.pix_fmt = "yuv420p"
                stream.thread_count = 1
            rgb = np.ascontiguousarray(rgb[: stream.height, : stream.width])
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            container.mux(stream.encode(frame))
            n += 1
        if stream is not None:
            container.mux(stream.encode())
    return n
