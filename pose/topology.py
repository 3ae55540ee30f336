"""pose-format's Holistic header, without the legacy MediaPipe graph installed.

pose-format builds its Holistic header (``pose_format.utils.holistic``) from the constants of
``mp.solutions.holistic``, so that module does not import where only mediapipe 1.x is installed
(Python 3.13). The constants are stored here, as pose-format 0.15.0 with mediapipe 0.10.21 computes
them (``holistic_topology.json``), and :func:`holistic_components` builds the very components
pose-format builds: same names, points, limbs, colours and order (checked in the tests wherever
pose-format's own module imports). The face-mesh edge sets that mediapipe 0.10.21 defines are here
too, for the code that draws faces.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from types import SimpleNamespace

from pose_format.pose_header import PoseHeaderComponent
from pose_format.utils.openpose import hand_colors

IRIS_POINTS = 10


@cache
def _data() -> dict:
    return json.loads((Path(__file__).with_name("holistic_topology.json")).read_text())


def _pairs(key: str) -> list[tuple[int, int]]:
    return [(a, b) for a, b in _data()[key]]


def body_points() -> list[str]:
    return list(_data()["body_points"])


def hand_points() -> list[str]:
    return list(_data()["hand_points"])


def hand_limbs() -> list[tuple[int, int]]:
    return _pairs("hand_limbs")


def facemesh_contours_points() -> list[str]:
    """The face points on MediaPipe's face contours (eyes, brows, lips, oval), as point names."""
    return list(_data()["facemesh_contours_points"])


def face_mesh_connections() -> SimpleNamespace:
    """MediaPipe's face-mesh edge sets (``FACEMESH_FACE_OVAL``, ``FACEMESH_LIPS``, ``FACEMESH_LEFT_EYE``,
    ``FACEMESH_RIGHT_EYE``, ``FACEMESH_LEFT_EYEBROW``, ``FACEMESH_RIGHT_EYEBROW``, ``FACEMESH_NOSE``,
    ``FACEMESH_TESSELATION``), each a list of ``(a, b)`` in the iteration order of mediapipe 0.10.21's
    frozensets, so that code walking them visits edges as it did with mediapipe's."""
    sets = {name: [(a, b) for a, b in edges] for name, edges in _data()["face_mesh"].items()}
    return SimpleNamespace(**sets, FACEMESH_TESSELATION=_pairs("face_limbs"))


def holistic_components(pf: str = "XYZC", additional_face_points: int = 0) -> list[PoseHeaderComponent]:
    """pose-format's ``holistic_components(pf, additional_face_points)``."""
    face_limbs = _pairs("face_limbs") + (_pairs("face_irises") if additional_face_points > 0 else [])
    face_points = [str(i) for i in range(468 + additional_face_points)]

    def hand(name: str) -> PoseHeaderComponent:
        return PoseHeaderComponent(name, hand_points(), hand_limbs(), hand_colors, pf)

    return [
        PoseHeaderComponent("POSE_LANDMARKS", body_points(), _pairs("body_limbs"), [(255, 0, 0)], pf),
        PoseHeaderComponent("FACE_LANDMARKS", face_points, face_limbs, [(128, 0, 0)], pf),
        hand("LEFT_HAND_LANDMARKS"),
        hand("RIGHT_HAND_LANDMARKS"),
        PoseHeaderComponent("POSE_WORLD_LANDMARKS", body_points(), _pairs("body_limbs"), [(255, 0, 0)], pf),
    ]
