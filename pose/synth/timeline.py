"""A document's motion: signs and interpolated transitions per hand, face and head, then capture
(landmark noise, visibility, dropped hand detections) into Holistic arrays.

Durations are defined at 25 fps and scaled to the requested fps and the signer's tempo.
Sentences are separated by pauses with the hands at rest; a sentence clip spans its first
movement out of rest to its return to rest, with a few frames of margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .face import EXPRESSIONS
from .grammar import SynthSentence
from .hands import HANDSHAPES, ORIENTATIONS, SHAPE_DIM
from .lexicon import BASE_HAND, LEXICON, LOCATIONS, REST, Sign
from .signer import FACE_OFFSET, LEFT_OFFSET, RIGHT_OFFSET, WORLD_OFFSET, Signer, skeleton

BASE_FPS = 25.0
BROW_UP, BROW_DOWN, MOUTH_OPEN, MOUTH_WIDE, BLINK = range(len(EXPRESSIONS))


@dataclass
class Motion:
    """A document's motion: clean landmarks, observed landmarks, and where sentences and signs are."""

    clean: np.ndarray  # (T, 576, 3) pixels, before noise and drops (what the rendered video shows)
    data: np.ndarray  # (T, 576, 3) float32, what an extractor would report
    confidence: np.ndarray  # (T, 576) float32, 0 where a part was not detected
    sentences: list[tuple[int, int]]  # clip frame span [start, end) of each sentence
    signs: list[list[tuple[int, int]]]  # per sentence, the frame span of each sign (document frames)


class _Track:
    """Per-frame state of one hand (own-side body units, Euler angles, handshape angles)."""

    def __init__(self, pos: np.ndarray, ori: np.ndarray, shape: np.ndarray):
        self.pos, self.ori, self.shape, self.rest = [], [], [], []
        self.state = (pos, ori, shape)
        self.frames = 0

    def __len__(self) -> int:
        return self.frames

    def extend(self, pos: np.ndarray, ori: np.ndarray, shape: np.ndarray, rest: bool = False) -> None:
        self.pos.append(pos)
        self.ori.append(ori)
        self.shape.append(shape)
        self.rest.append(np.full(len(pos), rest))
        self.state = (pos[-1], ori[-1], shape[-1])
        self.frames += len(pos)

    def hold(self, n: int, rest: bool = False) -> None:
        self.extend(*(np.repeat(v[None], n, 0) for v in self.state), rest=rest)

    def move(self, target: tuple[np.ndarray, np.ndarray, np.ndarray], n: int) -> None:
        """Smooth (ease in-out) interpolation from the current state to ``target`` over ``n`` frames."""
        u = np.arange(1, n + 1) / n
        s = (3 * u**2 - 2 * u**3)[:, None]
        self.extend(*((1 - s) * a[None] + s * b[None] for a, b in zip(self.state, target, strict=True)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return tuple(np.concatenate(v) for v in (self.pos, self.ori, self.shape, self.rest))


def _rest_state(rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _, x, y, z = REST
    pos = np.array([x, y, z]) + rng.normal(0, [0.04, 0.03, 0.02])
    return pos, np.array(ORIENTATIONS["rest"], float), HANDSHAPES["relaxed"].copy()


def _frames(n: float, signer: Signer, fps: float, rng) -> int:
    return max(2, int(round(n * signer.tempo * fps / BASE_FPS * rng.uniform(0.9, 1.1))))


def _sign_arrays(sign: Sign, signer: Signer, fps: float, rng) -> tuple[tuple, tuple | None]:
    """Dominant and non-dominant (None: at rest) arrays of one sign, holds included."""
    n = _frames(sign.movement.frames, signer, fps, rng)
    hold = max(1, int(round(signer.tempo * fps / BASE_FPS)))
    t = np.linspace(0, 1, n)
    xy, turn = sign.movement.path(t)
    xy = xy * rng.uniform(0.85, 1.15)
    base = np.array(BASE_HAND[1:]) + rng.normal(0, [0.03, 0.03, 0.02])
    if sign.hands == "base":
        loc = np.array([-base[0], base[1], base[2]]) + LOCATIONS["base"][1:]
    else:
        loc = signer.location(sign.location)
    ease = (0.5 - 0.5 * np.cos(np.pi * t))[:, None]
    start, end = HANDSHAPES[sign.shape], HANDSHAPES[sign.end_shape or sign.shape]
    shape = (1 - ease) * start + ease * end

    def hand(xy: np.ndarray, turn: np.ndarray) -> tuple:
        jitter = np.concatenate([rng.normal(0, 0.025, 2), rng.normal(0, 0.01, 1)])
        pos = loc + jitter + np.concatenate([xy, np.zeros((n, 1))], -1)
        ori = np.array(ORIENTATIONS[sign.orient]) + rng.normal(0, 4, 3) + turn
        return tuple(np.concatenate([a[:1].repeat(hold, 0), a, a[-1:].repeat(hold, 0)]) for a in (pos, ori, shape))

    dominant = hand(xy, turn)
    if sign.hands == "one":
        return dominant, None
    if sign.hands == "sym":
        return dominant, hand(xy, turn)
    if sign.hands == "alt":
        return dominant, hand(-xy, -turn)
    total = n + 2 * hold
    base_ori = np.array(ORIENTATIONS[sign.base_orient]) + rng.normal(0, 4, 3)
    return dominant, (
        base[None].repeat(total, 0),
        base_ori[None].repeat(total, 0),
        HANDSHAPES[sign.base_shape][None].repeat(total, 0),
    )


def _transition(a: np.ndarray, b: np.ndarray, signer: Signer, fps: float, rng) -> int:
    distance = float(np.linalg.norm(a[:2] - b[:2]))
    return _frames(min(9.0, 3 + 6 * distance), signer, fps, rng)


def _smooth_noise(rng, t: int, amplitude: float, dims: int, fps: float) -> np.ndarray:
    """A sum of slow random sinusoids ``(T, dims)`` (drift, sway, idle head motion)."""
    frames = np.arange(t)[:, None] / fps
    out = np.zeros((t, dims))
    for _ in range(3):
        freq, phase = rng.uniform(0.1, 0.6, dims), rng.uniform(0, 2 * np.pi, dims)
        out += np.sin(2 * np.pi * freq * frames + phase)
    return out * amplitude / 3


def _bump(values: np.ndarray, start: int, end: int, height: float, ramp: int = 3) -> None:
    """Raise ``values[start:end]`` to ``height`` with linear ramps (max with what is there)."""
    t = np.arange(len(values))
    shape = np.clip(np.minimum(t - start + ramp, end + ramp - t) / ramp, 0, 1) * height
    np.maximum(values, shape, out=values)


def _face(sentences, sign_spans, signer: Signer, t: int, fps: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Expression weights ``(T, 5)`` and head rotation ``(T, 3)`` from the grammar's face markers."""
    weights = np.zeros((t, len(EXPRESSIONS)))
    head = _smooth_noise(rng, t, 2.5, 3, fps)
    for sentence, signs in zip(sentences, sign_spans, strict=True):
        first, last = signs[0][0], signs[-1][1]
        if sentence.mood == "yn":
            _bump(weights[:, BROW_UP], first, last, rng.uniform(0.7, 1.0))
            _bump(head[:, 1], first, last, 5.0)
        elif sentence.mood == "wh":
            _bump(weights[:, BROW_DOWN], first, last, rng.uniform(0.7, 1.0))
        for marker, (a, b) in zip(sentence.face, signs, strict=True):
            if marker == "topic":
                _bump(weights[:, BROW_UP], a, b, rng.uniform(0.7, 1.0))
            elif marker == "neg":  # head shake, about 2.5 Hz
                k = np.arange(a, b)
                head[a:b, 0] += 10 * np.sin(2 * np.pi * 2.5 * (k - a) / fps) * np.sin(np.pi * (k - a) / max(1, b - a))
            if rng.random() < 0.7:  # mouthing
                k = np.arange(a, b)
                open_ = np.abs(np.sin(np.pi * rng.integers(1, 3) * (k - a) / max(1, b - a)))
                weights[a:b, MOUTH_OPEN] += signer.mouthing * rng.uniform(0.5, 1.0) * open_
            if rng.random() < 0.2:
                _bump(weights[:, MOUTH_WIDE], a, b, rng.uniform(0.3, 0.7))
    frame = int(rng.integers(0, int(3 * fps)))
    while frame < t:  # blinks every 2-5 s
        _bump(weights[:, BLINK], frame, frame + 1, 1.0, ramp=2)
        frame += int(rng.uniform(2, 5) * fps)
    return np.clip(weights, 0, 1.2), head


def document_motion(
    sentences: list[SynthSentence],
    signer: Signer,
    rng: np.random.Generator,
    width: int,
    height: int,
    fps: float = 25.0,
    hand_drop_rate: float = 0.03,
    rest_drop_rate: float = 0.3,
    jitter: float = 1.0,
) -> Motion:
    """Lay out a document's sentences in time and produce its landmarks."""
    rest_r, rest_l = _rest_state(rng), _rest_state(rng)
    right, left = _Track(*rest_r), _Track(*rest_l)
    lead = int(round(rng.uniform(6, 14) * fps / BASE_FPS))
    right.hold(lead, rest=True)
    left.hold(lead, rest=True)
    spans, sign_spans = [], []
    for sentence in sentences:
        clip_start = len(right) - int(round(rng.uniform(2, 4) * fps / BASE_FPS))
        signs = []
        for gloss in sentence.glosses:
            dom, nondom = _sign_arrays(LEXICON[gloss], signer, fps, rng)
            target_l = rest_l if nondom is None else tuple(a[0] for a in nondom)
            n = max(
                _transition(right.state[0], dom[0][0], signer, fps, rng),
                _transition(left.state[0], target_l[0], signer, fps, rng),
            )
            right.move(tuple(a[0] for a in dom), n)
            left.move(target_l, n)
            start = len(right)
            right.extend(*dom)
            if nondom is None:  # the other hand waits at rest, where detectors often lose it
                left.hold(len(dom[0]), rest=True)
            else:
                left.extend(*nondom)
            signs.append((start, len(right)))
        n = _frames(rng.uniform(6, 9), signer, fps, rng)
        right.move(rest_r, n)
        left.move(rest_l, n)
        margin = int(round(rng.uniform(2, 4) * fps / BASE_FPS))
        pause = margin + int(round(rng.uniform(4, 10) * fps / BASE_FPS))
        right.hold(pause, rest=True)
        left.hold(pause, rest=True)
        spans.append((clip_start, signs[-1][1] + n + margin))
        sign_spans.append(signs)
    tail = int(round(rng.uniform(4, 10) * fps / BASE_FPS))
    right.hold(tail, rest=True)
    left.hold(tail, rest=True)

    t = len(right)
    r_pos, r_ori, r_shape, r_rest = right.arrays()
    l_pos, l_ori, l_shape, l_rest = left.arrays()
    assert r_shape.shape == (t, SHAPE_DIM) and len(l_pos) == t
    expression, head = _face(sentences, sign_spans, signer, t, fps, rng)
    sway = _smooth_noise(rng, t, 0.015, 2, fps)
    clean = skeleton(signer, sway, (r_pos, r_ori, r_shape), (l_pos, l_ori, l_shape), expression, head, width, height)
    data, confidence = capture(
        clean, signer, (r_rest, l_rest), rng, width, height, hand_drop_rate, rest_drop_rate, jitter
    )
    return Motion(clean, data, confidence, spans, sign_spans)


def _bursts(rng, t: int, rate: float, mean_length: float = 4.0) -> np.ndarray:
    """A ``(T,)`` mask covering about ``rate`` of the frames in bursts of ~``mean_length`` frames."""
    mask = np.zeros(t, bool)
    if rate <= 0:
        return mask
    starts = np.flatnonzero(rng.random(t) < rate / mean_length)
    for s in starts:
        mask[s : s + int(rng.geometric(1 / mean_length))] = True
    return mask


def capture(clean, signer: Signer, rest, rng, width, height, hand_drop_rate, rest_drop_rate, jitter):
    """What an extractor would see: noisy landmarks, visibilities, dropped hands (all zero, confidence 0)."""
    t = len(clean)
    s = signer.shoulder_px
    sigma = np.zeros(clean.shape[1])
    sigma[:FACE_OFFSET] = 0.006 * s
    sigma[FACE_OFFSET:LEFT_OFFSET] = 0.002 * s
    sigma[LEFT_OFFSET:WORLD_OFFSET] = 0.004 * s
    noise = rng.normal(0, 1, clean.shape[:2] + (2,)) * sigma[None, :, None] * signer.jitter * jitter
    data = clean.copy()
    data[..., :2] += noise
    for offset in (LEFT_OFFSET, RIGHT_OFFSET):  # a hand also wobbles as a whole
        data[:, offset : offset + 21, :2] += rng.normal(0, 0.006 * s * signer.jitter * jitter, (t, 1, 2))
    data[:, WORLD_OFFSET:] = clean[:, WORLD_OFFSET:]
    confidence = np.ones(clean.shape[:2])
    inside = (
        (clean[:, :33, 0] >= 0) & (clean[:, :33, 0] < width) & (clean[:, :33, 1] >= 0) & (clean[:, :33, 1] < height)
    )
    visibility = np.where(inside, rng.uniform(0.9, 1.0, (t, 33)), rng.uniform(0.02, 0.3, (t, 33)))
    confidence[:, :33] = confidence[:, WORLD_OFFSET:] = visibility
    for offset, at_rest in zip((RIGHT_OFFSET, LEFT_OFFSET), rest, strict=True):
        dropped = _bursts(rng, t, hand_drop_rate * signer.drop) & ~at_rest
        dropped |= _bursts(rng, t, rest_drop_rate, 8.0) & at_rest
        wrist = clean[:, offset]
        dropped |= (wrist[:, 0] < 0) | (wrist[:, 0] >= width) | (wrist[:, 1] < 0) | (wrist[:, 1] >= height)
        data[dropped, offset : offset + 21] = 0
        confidence[dropped, offset : offset + 21] = 0
    return data.astype(np.float32), confidence.astype(np.float32)
