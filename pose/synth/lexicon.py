"""The synthsign lexicon: each sign as handshape + orientation + location + movement, one or two hands.

Every form is written for a right-dominant signer in image axes (x right = toward the signer's
left, i.e. "contra" for the right hand; y down). The non-dominant hand of a two-handed sign is
the mirror image (``sym``), the mirror image moving in opposite phase (``alt``), or a static base
hand that the dominant hand acts on (``base``). Forms are distinct by construction (checked by
:func:`check_lexicon` and the tests); English is attached by :mod:`pose.synth.grammar`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hands import HANDSHAPES, ORIENTATIONS

# where a sign happens: the palm centre of the dominant hand, as (anchor, x, y, z). Face anchors
# are in face units (face height 1, centre of the face), body anchors in shoulder widths from the
# shoulder midpoint; z is the distance in front of the body in shoulder widths (negative = closer
# to the camera, MediaPipe's sign).
LOCATIONS: dict[str, tuple[str, float, float, float]] = {
    "forehead": ("face", 0.0, -0.32, -0.35),
    "temple": ("face", -0.45, -0.18, -0.25),
    "eye": ("face", -0.18, -0.06, -0.4),
    "nose": ("face", 0.0, 0.12, -0.45),
    "ear": ("face", -0.55, -0.02, -0.15),
    "cheek": ("face", -0.32, 0.15, -0.35),
    "mouth": ("face", 0.0, 0.3, -0.45),
    "chin": ("face", 0.0, 0.55, -0.45),
    "shoulder": ("body", -0.32, 0.08, -0.3),
    "chest": ("body", -0.12, 0.38, -0.35),
    "stomach": ("body", -0.1, 0.85, -0.35),
    "neutral": ("body", -0.22, 0.5, -0.7),
    "neutral_high": ("body", -0.25, 0.05, -0.7),
    "side_low": ("body", -0.62, 0.95, -0.2),
    "base": ("base", 0.0, -0.13, -0.05),  # just above the base hand's palm centre
}
BASE_HAND = ("body", 0.12, 0.6, -0.6)  # where a base (non-dominant) hand waits, mirrored to its side
REST = ("body", -0.42, 1.12, -0.3)  # a hand at rest, low beside the hip

DIRECTIONS: dict[str, tuple[float, float]] = {
    "up": (0.0, -1.0),
    "down": (0.0, 1.0),
    "contra": (1.0, 0.0),
    "ipsi": (-1.0, 0.0),
    "up_contra": (0.7071, -0.7071),
    "up_ipsi": (-0.7071, -0.7071),
    "down_contra": (0.7071, 0.7071),
    "down_ipsi": (-0.7071, 0.7071),
}
KINDS = ("hold", "straight", "arc", "circle", "tap", "wiggle", "twist")
BASE_FRAMES = {"hold": 8, "straight": 9, "arc": 10, "circle": 13, "tap": 5, "wiggle": 4, "twist": 9}
HAND_MODES = ("one", "sym", "alt", "base")


@dataclass(frozen=True)
class Movement:
    """How the hand moves during the sign (displacements in shoulder widths)."""

    kind: str = "hold"  # one of KINDS
    direction: str = "down"  # one of DIRECTIONS (straight, arc, tap, wiggle)
    size: float = 0.0  # path length, circle radius or oscillation amplitude; 0 = the kind's default
    reps: int = 1  # repetitions of a tap, wiggle or circle

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"movement kind {self.kind!r} is not one of {KINDS}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"movement direction {self.direction!r} is not one of {sorted(DIRECTIONS)}")
        if self.reps < 1:
            raise ValueError("movement reps must be at least 1")

    @property
    def frames(self) -> int:
        """Frames of the movement at normal speed."""
        per = BASE_FRAMES[self.kind]
        return per * self.reps + (2 if self.kind in ("tap", "wiggle") else 0)

    def path(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Displacement ``(n, 2)`` and orientation change ``(n, 3)`` (degrees) at times ``t`` in [0, 1]."""
        d = np.array(DIRECTIONS[self.direction])
        ease = 0.5 - 0.5 * np.cos(np.pi * t)
        turn = np.zeros((len(t), 3))
        if self.kind == "straight":
            xy = ease[:, None] * d * (self.size or 0.3)
        elif self.kind == "arc":
            normal = np.array([d[1], -d[0]]) if d[0] >= 0 else np.array([-d[1], d[0]])  # bulge upward
            size = self.size or 0.35
            xy = ease[:, None] * d * size + np.sin(np.pi * ease)[:, None] * normal * 0.35 * size
        elif self.kind == "circle":
            r, a = self.size or 0.13, 2 * np.pi * self.reps * ease
            xy = r * np.stack([np.cos(a) - 1, np.sin(a)], -1)
        elif self.kind == "tap":  # leave the location and come back, reps times
            xy = ((1 - np.cos(2 * np.pi * self.reps * t)) / 2)[:, None] * -d * (self.size or 0.1)
        elif self.kind == "wiggle":
            xy = np.sin(2 * np.pi * self.reps * t)[:, None] * d * (self.size or 0.09)
        elif self.kind == "twist":  # the palm turns about the forearm
            xy = np.zeros((len(t), 2))
            turn[:, 2] = -70 * ease
        else:
            xy = np.zeros((len(t), 2))
        return xy, turn


@dataclass(frozen=True)
class Sign:
    """One sign's form."""

    gloss: str
    shape: str  # dominant handshape (HANDSHAPES)
    location: str  # LOCATIONS
    movement: Movement
    orient: str = "out"  # ORIENTATIONS
    hands: str = "one"  # one, sym, alt or base
    end_shape: str | None = None  # handshape at the end of the movement (a handshape change)
    base_shape: str = "B"  # the base hand's shape (hands = base)
    base_orient: str = "up"

    def __post_init__(self):
        for shape in (self.shape, self.end_shape or self.shape, self.base_shape):
            if shape not in HANDSHAPES:
                raise ValueError(f"{self.gloss}: unknown handshape {shape!r}")
        for orient in (self.orient, self.base_orient):
            if orient not in ORIENTATIONS:
                raise ValueError(f"{self.gloss}: unknown orientation {orient!r}")
        if self.location not in LOCATIONS:
            raise ValueError(f"{self.gloss}: unknown location {self.location!r}")
        if self.hands not in HAND_MODES:
            raise ValueError(f"{self.gloss}: hands must be one of {HAND_MODES}")
        if (self.location == "base") != (self.hands == "base"):
            raise ValueError(f"{self.gloss}: the location 'base' goes with hands='base' and only with it")

    def form(self) -> tuple:
        """What tells this sign apart from every other."""
        m = self.movement
        base = (self.base_shape, self.base_orient) if self.hands == "base" else None
        return (self.hands, self.shape, self.end_shape, self.orient, self.location, m.kind, m.direction, m.reps, base)


def _s(gloss, shape, location, kind="hold", direction="down", orient="out", hands="one", **kw) -> Sign:
    move = Movement(kind, direction, kw.pop("size", 0.0), kw.pop("reps", 1))
    return Sign(gloss, shape, location, move, orient, hands, **kw)


LEXICON_SIGNS: tuple[Sign, ...] = (
    # people and pronouns
    _s("I", "1", "chest", "tap", "contra", "in", reps=2),
    _s("YOU", "1", "neutral", "tap", "down", "point", reps=2),
    _s("WE", "1", "shoulder", "arc", "contra", "in", size=0.6),
    _s("THEY", "1", "neutral", "arc", "ipsi", "horiz_out", size=0.45),
    _s("MY", "B", "chest", "tap", "contra", "in", reps=2),
    _s("YOUR", "B", "neutral", "straight", "up_contra", "out", size=0.25),
    _s("FRIEND", "X", "neutral", "twist", orient="horiz_in", hands="alt"),
    _s("MOTHER", "5", "chin", "tap", "up", "side", reps=2),
    _s("FATHER", "5", "forehead", "tap", "up", "side", reps=2),
    _s("SISTER", "L", "cheek", "straight", "down", "side", size=0.45),
    _s("BROTHER", "L", "forehead", "straight", "contra", "side", size=0.4),
    # time
    _s("YESTERDAY", "Y", "cheek", "arc", "up_ipsi", "out", size=0.25),
    _s("TOMORROW", "A", "cheek", "arc", "contra", "side", size=0.3),
    _s("TODAY", "Y", "neutral", "straight", "down", "up", hands="sym", size=0.25),
    _s("LAST-WEEK", "1", "base", "arc", "up_ipsi", "horiz_in", hands="base", size=0.35),
    _s("NEXT-WEEK", "1", "base", "arc", "contra", "horiz_in", hands="base", size=0.35),
    # verbs
    _s("GO", "1", "neutral", "arc", "up_contra", "point", hands="sym", size=0.3),
    _s("COME", "1", "neutral_high", "arc", "down_ipsi", "point", hands="sym", size=0.3),
    _s("LIKE", "5", "chest", "straight", "down_contra", "in", end_shape="flatO", size=0.3),
    _s("WANT", "claw", "neutral", "straight", "down", "up", hands="sym", size=0.2),
    _s("SEE", "V", "eye", "straight", "down_contra", "in", size=0.35),
    _s("HAVE", "bentB", "chest", "tap", "up", "in", hands="sym", reps=2),
    _s("NEED", "X", "neutral", "tap", "up", "down", reps=2, size=0.13),
    _s("BUY", "flatO", "base", "arc", "up_contra", "up", hands="base", size=0.35),
    _s("MEET", "1", "neutral", "straight", "contra", "side", hands="sym", size=0.18),
    _s("HELP", "A", "base", "straight", "up", "side", hands="base", size=0.25),
    _s("KNOW", "bentB", "forehead", "tap", "up", "in", reps=2),
    _s("LOVE", "S", "chest", "hold", "contra", "in", hands="sym", size=0.0),
    _s("WORK", "S", "base", "tap", "up", "down", hands="base", base_shape="S", base_orient="down", reps=2),
    _s("LIVE", "A", "stomach", "straight", "up", "in", hands="sym", size=0.4),
    _s("DRINK", "C", "mouth", "twist", orient="side"),
    # things and places
    _s("STORE", "flatO", "neutral", "twist", orient="down", hands="sym"),
    _s("HOUSE", "B", "neutral_high", "arc", "down_ipsi", "tilt", hands="sym", size=0.35),
    _s("CAR", "S", "neutral", "straight", "up", "side", hands="alt", size=0.25),
    _s("DOG", "B", "side_low", "tap", "up", "in", reps=2),
    _s("CAT", "flatO", "cheek", "straight", "ipsi", "side", hands="sym", size=0.25),
    _s("COFFEE", "S", "base", "circle", "down", "side", hands="base", base_shape="S", base_orient="side", reps=2),
    _s("WATER", "W", "chin", "tap", "up", "side", reps=2),
    _s("PHONE", "Y", "ear", "tap", "down", "side", reps=2),
    _s("MONEY", "flatO", "base", "tap", "up", "up", hands="base", reps=2),
    # adjectives
    _s("BIG", "L", "neutral", "straight", "ipsi", "side", hands="sym", size=0.3),
    _s("SMALL", "B", "neutral", "straight", "contra", "side", hands="sym", size=0.15),
    _s("GOOD", "B", "chin", "straight", "down_contra", "in", size=0.4),
    _s("BAD", "B", "chin", "twist", orient="in"),
    _s("HAPPY", "B", "chest", "circle", "down", "in", reps=2, size=0.18),
    _s("TIRED", "bentB", "shoulder", "straight", "down", "in", hands="sym", size=0.25),
    _s("HOT", "claw", "mouth", "twist", orient="in"),
    _s("COLD", "S", "neutral_high", "wiggle", "contra", "in", hands="sym", reps=3, size=0.08),
    _s("NEW", "bentB", "base", "arc", "up_ipsi", "up", hands="base", size=0.3),
    _s("OLD", "C", "chin", "straight", "down", "side", end_shape="S", size=0.35),
    _s("BEAUTIFUL", "5", "nose", "circle", "down", "in", end_shape="flatO"),
    _s("NICE", "B", "base", "straight", "contra", "down", hands="base", size=0.4),
    # function signs
    _s("NOT", "A", "chin", "straight", "down", "side", size=0.3),
    _s("WHERE", "1", "neutral_high", "wiggle", "contra", "out", reps=3),
    _s("WHEN", "1", "base", "circle", "down", "point", hands="base", base_shape="1", base_orient="out"),
    _s("WHAT", "5", "neutral", "wiggle", "contra", "up", hands="sym", reps=2),
    _s("WHO", "X", "mouth", "wiggle", "up", "side", reps=3, size=0.05),
    _s("WHY", "B", "forehead", "straight", "ipsi", "in", end_shape="Y", size=0.35),
    _s("QM", "1", "neutral", "straight", "down", "out", end_shape="X", size=0.2),
    # topics: each document names one in its first sentence
    _s("SPORTS", "A", "neutral", "straight", "contra", "in", hands="sym", size=0.18),
    _s("PARTY", "Y", "neutral", "arc", "ipsi", "out", hands="alt", size=0.3),
    _s("SCHOOL", "B", "base", "tap", "up", "down", hands="base", reps=2),
    _s("RESTAURANT", "U", "chin", "arc", "ipsi", "side", size=0.25),
    # ambiguous: the English word depends on the document's topic
    _s("LEADER", "flatO", "temple", "straight", "down", "in", hands="sym", size=0.3),
    _s("GROUP", "C", "neutral", "arc", "ipsi", "out", hands="sym", size=0.35),
    _s("THING", "claw", "neutral", "tap", "contra", "side", hands="sym", reps=2),
    _s("PLACE", "V", "neutral", "circle", "down", "down", hands="sym"),
    _s("ACTIVITY", "V", "base", "wiggle", "contra", "down", hands="base", reps=2),
)
LEXICON: dict[str, Sign] = {s.gloss: s for s in LEXICON_SIGNS}


def check_lexicon(signs=LEXICON_SIGNS) -> None:
    """Raise ValueError if two signs share a gloss or a form."""
    glosses, forms = {}, {}
    for s in signs:
        if s.gloss in glosses:
            raise ValueError(f"gloss {s.gloss} is defined twice")
        glosses[s.gloss] = s
        if s.form() in forms:
            raise ValueError(f"{s.gloss} and {forms[s.form()].gloss} have the same form")
        forms[s.form()] = s


check_lexicon()
