"""Signers: body proportions and framing drawn per document, and the 576-point Holistic skeleton.

Body coordinates ("body units") have their origin at the shoulder midpoint, x toward image right,
y down, and the shoulder width as unit. Hand tracks are kept in each hand's "own side" frame
(x < 0 is that hand's side of the body): the right hand's own frame is the image frame, the left
hand's is its mirror image. Pixel coordinates come out in the order of pose-format's Holistic
header: POSE 33, FACE 468, LEFT_HAND 21, RIGHT_HAND 21, POSE_WORLD 33.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .face import face_points
from .hands import posed_hand
from .lexicon import LOCATIONS

FACE_OFFSET, LEFT_OFFSET, RIGHT_OFFSET, WORLD_OFFSET, TOTAL_POINTS = 33, 501, 522, 543, 576
SKIN_TONES = ((236, 192, 160), (224, 172, 140), (198, 140, 105), (160, 105, 75), (115, 75, 52))
SHOULDER_METRES = 0.38  # a typical shoulder width, for the world landmarks
# MediaPipe pose points taken from the face mesh: nose, eyes (inner, centre, outer), mouth corners
FACE_TO_BODY = {0: (1,), 1: (362,), 2: (386, 374), 3: (263,), 4: (133,), 5: (159, 145), 6: (33,), 9: (291,), 10: (61,)}


@dataclass(frozen=True)
class Signer:
    """One synthetic signer and how the camera frames them."""

    shoulder_px: float  # shoulder width in pixels
    centre_x: float  # shoulder midpoint in pixels
    centre_y: float
    neck: float  # shoulder line to chin, in shoulder widths
    face_height: float  # forehead top to chin
    face_width: float  # horizontal scale of the face
    upper_arm: float
    forearm: float
    hand: float  # wrist to middle fingertip
    torso: float  # shoulder line to hip line
    hips: float  # hip width
    tilt: float  # shoulder line slope (shoulder widths of height difference)
    tempo: float  # duration multiplier (> 1: slower)
    jitter: float  # landmark noise multiplier
    drop: float  # hand-drop rate multiplier
    mouthing: float  # how much the mouth moves while signing
    background: tuple[int, int, int]  # RGB of the rendered background (muted, never like a hand's colour)
    shirt: tuple[int, int, int]  # RGB, contrasting with the background
    skin: tuple[int, int, int]

    def face_to_body(self, fx: np.ndarray, fy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face units (face centre, face height) -> body units, for the neutral head."""
        centre_y = -self.neck - self.face_height / 2
        return fx * self.face_height * self.face_width, centre_y + fy * self.face_height

    def location(self, name: str) -> np.ndarray:
        """A named location as an own-side body-unit point ``(3,)``."""
        anchor, x, y, z = LOCATIONS[name]
        if anchor == "face":
            x, y = self.face_to_body(np.float64(x), np.float64(y))
        return np.array([x, y, z], np.float64)


def sample_signer(rng: np.random.Generator, width: int, height: int) -> Signer:
    """A signer with proportions, framing and habits drawn around typical adult values."""
    u = rng.uniform
    grey = u(30, 210)
    background = tuple(int(np.clip(grey + t, 0, 255)) for t in rng.uniform(-20, 20, 3))
    shirt_grey = u(35, 85) if grey > 120 else u(150, 205)
    shirt = tuple(int(np.clip(shirt_grey + t, 0, 255)) for t in rng.uniform(-30, 30, 3))
    shoulder = u(0.32, 0.38) * height * min(1.0, width / height / 0.75)  # a tall frame shrinks the signer
    return Signer(
        shoulder_px=shoulder,
        centre_x=width / 2 + u(-0.06, 0.06) * width,
        centre_y=u(0.42, 0.47) * height,
        neck=u(0.26, 0.34),
        face_height=u(0.46, 0.54),
        face_width=u(0.92, 1.08),
        upper_arm=u(0.74, 0.84),
        forearm=u(0.62, 0.7),
        hand=u(0.45, 0.51),
        torso=u(1.18, 1.32),
        hips=u(0.6, 0.72),
        tilt=u(-0.03, 0.03),
        tempo=u(0.8, 1.25),
        jitter=u(0.5, 1.5),
        drop=u(0.5, 1.5),
        mouthing=u(0.1, 0.6),
        background=background,
        shirt=shirt,
        skin=SKIN_TONES[int(rng.integers(len(SKIN_TONES)))],
    )


def elbows(shoulder: np.ndarray, wrist: np.ndarray, upper: float, fore: float, side: float) -> np.ndarray:
    """Two-link inverse kinematics in 3-D: the elbow ``(T, 3)`` hangs down and out from the
    shoulder-wrist line (``side`` -1 for the right arm, +1 for the left)."""
    v = wrist - shoulder
    d = np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-6)
    u = v / d
    along = np.clip((upper**2 - fore**2 + d**2) / (2 * d), -upper, upper)
    h = np.sqrt(np.maximum(upper**2 - along**2, 0.0))
    down = np.array([0.35 * side, 1.0, 0.4])  # elbows hang down, a little out and back
    perp = down - np.sum(down * u, -1, keepdims=True) * u
    perp /= np.maximum(np.linalg.norm(perp, axis=-1, keepdims=True), 1e-6)
    return shoulder + along * u + h * perp


def skeleton(
    signer: Signer,
    sway: np.ndarray,
    right: tuple[np.ndarray, np.ndarray, np.ndarray],
    left: tuple[np.ndarray, np.ndarray, np.ndarray],
    expression: np.ndarray,
    head: np.ndarray,
    width: int,
    height: int,
) -> np.ndarray:
    """Clean landmarks ``(T, 576, 3)`` in pixels (z in MediaPipe's units: image widths).

    ``sway`` ``(T, 2)`` body-unit drift of the upper body; ``right`` / ``left`` hand tracks
    (position ``(T, 3)`` own-side body units, orientation ``(T, 3)``, shape ``(T, 20)``);
    ``expression`` ``(T, 5)`` and ``head`` ``(T, 3)`` drive the face.
    """
    t = len(sway)
    s = signer.shoulder_px
    origin = np.array([signer.centre_x, signer.centre_y, 0.0])
    out = np.zeros((t, TOTAL_POINTS, 3))
    shift = np.concatenate([sway, np.zeros((t, 1))], -1)  # (T, 3) body units

    def px(body: np.ndarray) -> np.ndarray:  # body units (T, N, 3) -> pixels, z in image widths
        p = body * s + origin
        p[..., 2] = body[..., 2] * s / width
        return p

    # face: mesh in face units -> body units around the face centre
    mesh = face_points(expression, head)  # (T, 468, 3)
    fx, fy = signer.face_to_body(mesh[..., 0], mesh[..., 1])
    face = np.stack([fx, fy, mesh[..., 2] * signer.face_height], -1) + shift[:, None]
    out[:, FACE_OFFSET:LEFT_OFFSET] = px(face)
    out[:, FACE_OFFSET:LEFT_OFFSET, 2] -= out[:, FACE_OFFSET:LEFT_OFFSET, 2].mean(
        1, keepdims=True
    )  # MediaPipe: relative

    # torso and legs (the legs fall below the frame, as in How2Sign)
    body = np.zeros((t, 33, 3))
    for i, points in FACE_TO_BODY.items():
        body[:, i] = face[:, list(points)].mean(1)
    for i, p, out_x in ((7, 454, 0.06), (8, 234, -0.06)):  # ears: beside the cheekbones
        body[:, i] = face[:, p] + [out_x * signer.face_height, 0.02, 0.1]
    half_tilt = signer.tilt / 2
    body[:, 11] = [0.5, -half_tilt, 0.0]
    body[:, 12] = [-0.5, half_tilt, 0.0]
    body[:, 11:13] += shift[:, None]
    body[:, 23] = [signer.hips / 2, signer.torso, 0.05]
    body[:, 24] = [-signer.hips / 2, signer.torso, 0.05]
    for left_i, right_i, y in ((25, 26, 1.1), (27, 28, 2.1), (29, 30, 2.2), (31, 32, 2.25)):
        body[:, left_i] = [signer.hips / 2 + 0.02, signer.torso + y, 0.1 + 0.1 * (left_i > 28)]
        body[:, right_i] = [-signer.hips / 2 - 0.02, signer.torso + y, 0.1 + 0.1 * (right_i > 28)]

    # hands: own-side tracks -> image; the right hand's own frame is the image frame
    hand_len = signer.hand * s
    for (pos, euler, shape), mirror, offset, wrist_i, elbow_i, shoulder_i in (
        (right, False, RIGHT_OFFSET, 16, 14, 12),
        (left, True, LEFT_OFFSET, 15, 13, 11),
    ):
        centre = pos.copy()
        if mirror:
            centre[:, 0] *= -1
        centre = centre + shift
        hand = posed_hand(shape, euler, centre * [s, s, s] + origin, hand_len, mirror)  # (T, 21, 3) px, z px
        wrist_body = (hand[:, 0] - origin) / s
        body[:, wrist_i] = wrist_body
        side = 1.0 if mirror else -1.0
        body[:, elbow_i] = elbows(body[:, shoulder_i], wrist_body, signer.upper_arm, signer.forearm, side)
        for body_i, hand_i in ((wrist_i + 2, 17), (wrist_i + 4, 5), (wrist_i + 6, 2)):  # pinky, index, thumb
            body[:, body_i] = (hand[:, hand_i] - origin) / s
        hand[..., 2] = (hand[..., 2] - hand[:, :1, 2]) / width  # MediaPipe: depth relative to the wrist
        out[:, offset : offset + 21] = hand
    out[:, :33] = px(body)
    # world landmarks: metres about the hip midpoint, scaled by the image size as pose-format stores them
    hip_mid = (body[:, 23:24] + body[:, 24:25]) / 2
    out[:, WORLD_OFFSET:] = (body - hip_mid) * SHOULDER_METRES * [width, height, 1.0]
    return out
