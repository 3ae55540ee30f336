"""Hand kinematics: handshapes as joint angles, palm orientations, and the 21 MediaPipe hand points.

A hand is computed for a RIGHT hand in its own frame, in units of hand length (wrist to middle
fingertip = 1) and in image axes: x right, y down, z away from the camera (MediaPipe's sign).
The canonical pose (all angles 0) has the fingers up (-y), the thumb toward +x (the signer's
midline for a right hand seen from the front) and the palm facing the camera (normal -z). A left
hand is the mirror image (x negated), so one sign definition drives both hands.

Point order is MediaPipe's: 0 wrist; thumb 1-4 (CMC, MCP, IP, TIP); index 5-8, middle 9-12,
ring 13-16, pinky 17-20 (MCP, PIP, DIP, TIP).
"""

from __future__ import annotations

import numpy as np

# --- geometry of the canonical hand --------------------------------------------------------------

FINGER_BASES = np.array([[0.11, -0.42], [0.02, -0.44], [-0.07, -0.41], [-0.15, -0.36]])  # index..pinky MCP (x, y)
FINGER_LENGTHS = np.array([[0.22, 0.13, 0.11], [0.25, 0.15, 0.12], [0.23, 0.14, 0.11], [0.17, 0.11, 0.10]])
THUMB_BASE = np.array([0.12, -0.10])  # CMC
THUMB_LENGTHS = np.array([0.18, 0.14, 0.11])  # CMC->MCP, MCP->IP, IP->TIP
PALM_CENTRE = np.array([0.0, -0.24, 0.0])  # the point that a sign's location places
HAND_POINTS = 21

# --- handshapes ----------------------------------------------------------------------------------
# A handshape is 20 angles in degrees: per finger (index, middle, ring, pinky) spread, MCP, PIP,
# DIP flexion; then the thumb's abduction (from the index direction toward +x), opposition (out
# of the palm plane toward the palm side), MCP and IP flexion. Angles interpolate linearly, which
# gives natural transitions between shapes.
SHAPE_DIM = 20

EXT, CURL, BENT, HOOK, CURVE, HALF = (0, 0, 0), (80, 95, 65), (85, 0, 5), (10, 95, 70), (30, 40, 30), (55, 15, 10)
CLAW, RELAX = (15, 60, 50), (15, 25, 15)
TOGETHER, SPREAD = (3, 0, -3, -6), (16, 4, -9, -21)
THUMB_ACROSS, THUMB_OUT, THUMB_SIDE = (20, 50, 30, 20), (75, 10, 0, 0), (10, 10, 0, 0)
THUMB_OVER, THUMB_OPPOSED, THUMB_TUCK, THUMB_L = (35, 65, 45, 40), (45, 55, 15, 10), (30, 60, 40, 50), (90, 5, 0, 0)


def _shape(fingers: tuple, spread: tuple, thumb: tuple) -> np.ndarray:
    if len(fingers) == 3:  # one flexion for all four fingers
        fingers = (fingers,) * 4
    angles = [a for s, f in zip(spread, fingers, strict=True) for a in (s, *f)]
    return np.array(angles + list(thumb), np.float64)


HANDSHAPES: dict[str, np.ndarray] = {
    "B": _shape(EXT, TOGETHER, THUMB_ACROSS),
    "5": _shape(EXT, SPREAD, THUMB_OUT),
    "A": _shape(CURL, TOGETHER, THUMB_SIDE),
    "S": _shape(CURL, TOGETHER, THUMB_OVER),
    "1": _shape((EXT, CURL, CURL, CURL), TOGETHER, THUMB_TUCK),
    "V": _shape((EXT, EXT, CURL, CURL), SPREAD, THUMB_TUCK),
    "U": _shape((EXT, EXT, CURL, CURL), TOGETHER, THUMB_TUCK),
    "W": _shape((EXT, EXT, EXT, CURL), SPREAD, THUMB_TUCK),
    "3": _shape((EXT, EXT, CURL, CURL), SPREAD, THUMB_OUT),
    "Y": _shape((CURL, CURL, CURL, EXT), SPREAD, THUMB_OUT),
    "I": _shape((CURL, CURL, CURL, EXT), TOGETHER, THUMB_OVER),
    "L": _shape((EXT, CURL, CURL, CURL), TOGETHER, THUMB_L),
    "X": _shape((HOOK, CURL, CURL, CURL), TOGETHER, THUMB_TUCK),
    "C": _shape(CURVE, TOGETHER, THUMB_OPPOSED),
    "O": _shape((50, 60, 40), TOGETHER, (40, 70, 20, 20)),
    "flatO": _shape(HALF, TOGETHER, (45, 60, 10, 5)),
    "bentB": _shape(BENT, TOGETHER, THUMB_ACROSS),
    "claw": _shape(CLAW, SPREAD, (60, 20, 20, 30)),
    "relaxed": _shape(RELAX, (5, 0, -4, -9), THUMB_SIDE),  # a resting hand
}

# --- orientations --------------------------------------------------------------------------------
# (yaw, pitch, roll) in degrees, applied as R = Rz(roll) @ Rx(pitch) @ Ry(yaw) to the canonical
# hand: yaw turns the palm about the finger axis, pitch tilts the fingers toward the camera, roll
# turns the fingers within the image plane (90 = fingers toward the midline).
ORIENTATIONS: dict[str, tuple[float, float, float]] = {
    "out": (0, 0, 0),  # fingers up, palm to the camera
    "in": (180, 0, 0),  # fingers up, palm to the signer
    "side": (-90, 0, 0),  # fingers up, palm toward the midline
    "down": (-90, 0, 90),  # fingers toward the midline, palm down
    "up": (90, 0, 90),  # fingers toward the midline, palm up
    "horiz_out": (0, 0, 90),  # fingers toward the midline, palm to the camera
    "horiz_in": (180, 0, 90),  # fingers toward the midline, palm to the signer
    "point": (-90, 65, 20),  # fingers toward the camera (pointing at the viewer)
    "tilt": (-60, 0, 35),  # fingers up and toward the midline, palm half turned
    "rest": (150, 20, 170),  # fingers down, palm to the body
}


def rotation(euler: np.ndarray) -> np.ndarray:
    """``(T, 3)`` (yaw, pitch, roll) degrees -> ``(T, 3, 3)`` rotation matrices."""
    yaw, pitch, roll = np.radians(euler).T
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    zero, one = np.zeros_like(yaw), np.ones_like(yaw)
    ry = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(-1, 3, 3)
    rx = np.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], -1).reshape(-1, 3, 3)
    rz = np.stack([cr, -sr, zero, sr, cr, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    return rz @ rx @ ry


def _chain(start: np.ndarray, d0: np.ndarray, bend: np.ndarray, angles: np.ndarray, lengths: np.ndarray) -> list:
    """Points of a 3-segment chain whose direction rotates from ``d0`` toward ``bend`` by the
    cumulative ``angles`` ``(T, 3)`` (radians); every vector is ``(T, 3)``."""
    points, p, total = [], start, np.zeros(len(start))
    for k in range(3):
        total = total + angles[:, k]
        direction = np.cos(total)[:, None] * d0 + np.sin(total)[:, None] * bend
        p = p + lengths[k] * direction
        points.append(p)
    return points


def hand_points(shape: np.ndarray) -> np.ndarray:
    """``(T, 20)`` handshape angles -> ``(T, 21, 3)`` canonical right-hand points (hand lengths)."""
    t = len(shape)
    a = np.radians(shape)
    palm_normal = np.broadcast_to(np.array([0.0, 0.0, -1.0]), (t, 3))
    out = np.zeros((t, HAND_POINTS, 3))
    for f in range(4):
        spread, flex = a[:, 4 * f], a[:, 4 * f + 1 : 4 * f + 4]
        d0 = np.stack([np.sin(spread), -np.cos(spread), np.zeros(t)], -1)
        base = np.zeros((t, 3))
        base[:, :2] = FINGER_BASES[f]
        out[:, 5 + 4 * f] = base
        for k, p in enumerate(_chain(base, d0, palm_normal, flex, FINGER_LENGTHS[f])):
            out[:, 6 + 4 * f + k] = p
    abduct, oppose, t_mcp, t_ip = a[:, 16], a[:, 17], a[:, 18], a[:, 19]
    in_plane = np.stack([np.sin(abduct), -np.cos(abduct), np.zeros(t)], -1)
    d0 = np.cos(oppose)[:, None] * in_plane + np.sin(oppose)[:, None] * palm_normal
    # the thumb flexes toward the palm centre and the little-finger side
    bend = np.array([-0.7, 0.0, -0.7]) - np.sum(d0 * np.array([-0.7, 0.0, -0.7]), -1, keepdims=True) * d0
    bend /= np.linalg.norm(bend, axis=-1, keepdims=True) + 1e-9
    cmc = np.zeros((t, 3))
    cmc[:, :2] = THUMB_BASE
    out[:, 1] = cmc
    angles = np.stack([np.zeros(t), t_mcp, t_ip], -1)
    for k, p in enumerate(_chain(cmc, d0, bend, angles, THUMB_LENGTHS)):
        out[:, 2 + k] = p
    return out


def posed_hand(shape: np.ndarray, euler: np.ndarray, centre: np.ndarray, length: float, mirror: bool) -> np.ndarray:
    """Hand points placed in the image: ``(T, 21, 3)`` pixels (z in pixels too).

    ``shape`` ``(T, 20)`` angles, ``euler`` ``(T, 3)`` orientation, ``centre`` ``(T, 3)`` where the
    palm centre goes, ``length`` the hand length in pixels; ``mirror`` makes it a left hand.
    """
    local = hand_points(shape) - PALM_CENTRE  # (T, 21, 3)
    posed = local @ rotation(euler).transpose(0, 2, 1) * length  # (T, 21, 3)
    if mirror:
        posed[..., 0] *= -1
    return posed + centre[:, None, :]
