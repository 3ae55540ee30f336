"""A procedural 468-point MediaPipe face mesh with a few expressions and head rotation.

The mesh is laid out in face units (forehead top, point 10, at y = -0.5; chin, point 152, at
y = +0.5; x right, y down): the contours that MediaPipe names (face oval, eyes, brows, lips) and
the nose are placed on simple curves, and every other point is the harmonic interpolation of its
neighbours in MediaPipe's own tessellation (a Tutte embedding), so the mesh stays untangled
without shipping MediaPipe's canonical model. Expressions (brows up or down, mouth open or wide,
blink) move a few anchors and let the same harmonic solve spread the motion over the face.
"""

from __future__ import annotations

import functools

import numpy as np

from .hands import rotation

FACE_POINTS = 468
EXPRESSIONS = ("brow_up", "brow_down", "mouth_open", "mouth_wide", "blink")

# midline and nose points (x, y); the nose wings are mirrored from the subject's right (x < 0)
MIDLINE = {151: -0.35, 9: -0.2, 168: -0.1, 6: -0.05, 197: 0.0, 195: 0.05, 5: 0.09, 4: 0.12, 1: 0.15}
MIDLINE.update({19: 0.175, 94: 0.195, 2: 0.21})
NOSE_WINGS = {
    (45, 275): (0.02, 0.12),
    (220, 440): (0.035, 0.07),
    (115, 344): (0.05, 0.11),
    (48, 278): (0.055, 0.15),
    (64, 294): (0.06, 0.18),
    (98, 327): (0.045, 0.2),
    (97, 326): (0.02, 0.205),
}
EYE_Y, EYE_INNER, EYE_OUTER, EYE_HALF_HEIGHT = -0.08, 0.09, 0.22, 0.024
BROW_Y, BROW_INNER, BROW_OUTER = -0.19, 0.06, 0.26
MOUTH_Y, MOUTH_HALF_WIDTH = 0.31, 0.11


def _connections():
    from ..topology import face_mesh_connections  # mediapipe 0.10.21's edge sets, on any mediapipe

    return face_mesh_connections()


def _paths(edges, start: int, end: int) -> list[list[int]]:
    """The simple paths from ``start`` to ``end`` in a cycle or a chain given as edges."""
    nbrs: dict[int, list[int]] = {}
    for a, b in edges:
        nbrs.setdefault(a, []).append(b)
        nbrs.setdefault(b, []).append(a)
    paths = []
    for first in nbrs[start]:
        path, prev = [start, first], start
        while path[-1] != end:
            nxt = [n for n in nbrs[path[-1]] if n != prev and n not in path[:-1]]
            if not nxt:
                break
            prev = path[-1]
            path.append(nxt[0])
        if path[-1] == end:
            paths.append(path)
    return paths


def _along(path: list[int], curve) -> dict[int, tuple[float, float]]:
    """Place ``path`` evenly on ``curve(s)``, s from 0 to 1."""
    n = len(path) - 1
    return {p: curve(i / n) for i, p in enumerate(path)}


@functools.lru_cache(maxsize=1)
def layout() -> tuple[dict[int, tuple[float, float]], dict[str, frozenset[int]]]:
    """Anchor positions (point -> (x, y)) and named groups of anchors (lids, lips, brows)."""
    fm = _connections()
    pos: dict[int, tuple[float, float]] = {}
    groups: dict[str, set[int]] = {"upper_lid": set(), "lower_lid": set(), "lower_lip": set(), "lips": set()}
    # face oval: egg-shaped, narrower at the chin; t from the forehead top (0) to the chin (pi)
    for path in _paths(fm.FACEMESH_FACE_OVAL, 10, 152):
        sign = 1.0 if 338 in path else -1.0  # 338 lies on the subject's left (image right)

        def oval(s, sign=sign):
            t = np.pi * s
            width = 0.38 * (1 - 0.28 * max(0.0, -np.cos(t)) ** 2)
            return sign * width * np.sin(t), -0.5 * np.cos(t)

        pos.update(_along(path, oval))
    for p, y in MIDLINE.items():
        pos[p] = (0.0, y)
    for (right, left), (x, y) in NOSE_WINGS.items():
        pos[right], pos[left] = (-x, y), (x, y)
    # eyes: the upper lid passes 159 / 386, the lower 145 / 374
    for edges, outer, inner, upper, sign in (
        (fm.FACEMESH_RIGHT_EYE, 33, 133, 159, -1.0),
        (fm.FACEMESH_LEFT_EYE, 263, 362, 386, 1.0),
    ):
        for path in _paths(edges, outer, inner):
            lid = -1.25 if upper in path else 1.0
            groups["upper_lid" if upper in path else "lower_lid"].update(path[1:-1])

            def eye(s, lid=lid, sign=sign):
                x = EYE_OUTER + (EYE_INNER - EYE_OUTER) * s
                return sign * x, EYE_Y + lid * EYE_HALF_HEIGHT * np.sin(np.pi * s)

            pos.update(_along(path, eye))
    # brows: two parallel arched lines each, from the outer end to the inner end
    brows = set()
    for edges, ends, sign in (
        (fm.FACEMESH_RIGHT_EYEBROW, ((46, 55), (70, 107)), -1.0),
        (fm.FACEMESH_LEFT_EYEBROW, ((276, 285), (300, 336)), 1.0),
    ):
        for (outer, inner), dy in zip(ends, (0.0, -0.025), strict=True):
            path = _paths(edges, outer, inner)[0]
            brows.update(path)

            def brow(s, dy=dy, sign=sign):
                x = BROW_OUTER + (BROW_INNER - BROW_OUTER) * s
                return sign * x, BROW_Y + dy - 0.12 * s * (1 - s) + 0.02 * s  # arched, inner end lower

            pos.update(_along(path, brow))
    groups["brows"] = brows
    # lips: outer and inner loops from the right corner (61 / 78) to the left (291 / 308)
    for corner_r, corner_l, top, half_width, upper_h, lower_h in (
        (61, 291, 0, MOUTH_HALF_WIDTH, 0.035, 0.05),
        (78, 308, 13, 0.095, 0.006, 0.006),
    ):
        for path in _paths(fm.FACEMESH_LIPS, corner_r, corner_l):
            h = -upper_h if top in path else lower_h
            groups["lips"].update(path)
            if top not in path:
                groups["lower_lip"].update(path[1:-1])

            def lip(s, h=h, w=half_width):
                return -w + 2 * w * s, MOUTH_Y + h * np.sin(np.pi * s) ** 0.7

            pos.update(_along(path, lip))
    return pos, {k: frozenset(v) for k, v in groups.items()}


@functools.lru_cache(maxsize=1)
def _solver() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed point ids, free point ids and the harmonic operator ``free = op @ fixed``."""
    fm = _connections()
    adjacency = np.zeros((FACE_POINTS, FACE_POINTS))
    for a, b in fm.FACEMESH_TESSELATION:
        adjacency[a, b] = adjacency[b, a] = 1.0
    laplacian = np.diag(adjacency.sum(1)) - adjacency
    fixed = np.array(sorted(layout()[0]))
    free = np.setdiff1d(np.arange(FACE_POINTS), fixed)
    op = -np.linalg.solve(laplacian[np.ix_(free, free)], laplacian[np.ix_(free, fixed)])
    return fixed, free, op


def _spread(anchor_xy: dict[int, tuple[float, float]]) -> np.ndarray:
    """``(468, 2)``: anchors as given (anchors not listed stay at 0), the rest harmonically interpolated."""
    fixed, free, op = _solver()
    values = np.array([anchor_xy.get(int(p), (0.0, 0.0)) for p in fixed])
    out = np.zeros((FACE_POINTS, 2))
    out[fixed] = values
    out[free] = op @ values
    return out


@functools.lru_cache(maxsize=1)
def template() -> np.ndarray:
    """The neutral face ``(468, 3)`` in face units; z < 0 toward the camera (nose forward)."""
    xy = _spread(layout()[0])
    x, y = xy[:, 0], xy[:, 1]
    dome = -0.22 * np.sqrt(np.clip(1 - (x / 0.42) ** 2 - (y / 0.56) ** 2, 0, None))
    nose = -0.12 * np.exp(-(x**2 + (y - 0.13) ** 2) / 0.006)
    return np.stack([x, y, dome + nose], -1)


@functools.lru_cache(maxsize=1)
def expressions() -> np.ndarray:
    """``(5, 468, 3)`` displacement of each expression in :data:`EXPRESSIONS` at full strength."""
    pos, groups = layout()
    chin = {152: 0.05, 148: 0.04, 377: 0.04, 176: 0.035, 400: 0.035, 149: 0.025, 378: 0.025, 150: 0.015, 379: 0.015}
    moves: list[dict[int, tuple[float, float]]] = [
        {p: (0.0, -0.05) for p in groups["brows"]},  # brow_up
        {p: (-np.sign(pos[p][0]) * 0.012 * (abs(pos[p][0]) < 0.15), 0.025) for p in groups["brows"]},  # brow_down
        {  # mouth_open: the lower lip drops most in the middle, the jaw with it
            **{p: (0.0, 0.06 * max(0.2, 1 - (pos[p][0] / MOUTH_HALF_WIDTH) ** 2)) for p in groups["lower_lip"]},
            **{p: (0.0, dy) for p, dy in chin.items()},
        },
        {p: (0.3 * pos[p][0], -0.01) for p in groups["lips"]},  # mouth_wide
        {  # blink: the upper lid comes down most of the way, the lower lid a little
            **{p: (0.0, 0.95 * (EYE_Y - pos[p][1])) for p in groups["upper_lid"]},
            **{p: (0.0, 0.4 * (EYE_Y - pos[p][1])) for p in groups["lower_lid"]},
        },
    ]
    out = np.zeros((len(EXPRESSIONS), FACE_POINTS, 3))
    for k, move in enumerate(moves):
        out[k, :, :2] = _spread(move)
    return out


def face_points(weights: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Face points in face units, ``(T, 468, 3)``, for expression ``weights`` ``(T, 5)`` and head
    rotation ``head`` ``(T, 3)`` (yaw, pitch, roll in degrees, about a pivot inside the head)."""
    moves = expressions()
    pts = template()[None] + (weights @ moves.reshape(len(moves), -1)).reshape(len(weights), *moves.shape[1:])
    pivot = np.array([0.0, 0.15, 0.35])  # behind the face, toward the neck
    return (pts - pivot) @ rotation(head).transpose(0, 2, 1) + pivot  # (T, 468, 3)
