"""synthsign's videos: each part drawn in its colour where the landmarks are, encoded frame for frame."""

from __future__ import annotations

import numpy as np

from pose.synth.hands import HANDSHAPES
from pose.synth.render import LEFT_HAND_COLOUR, RIGHT_HAND_COLOUR, draw_frames, write_mp4
from pose.synth.signer import FACE_OFFSET, LEFT_OFFSET, RIGHT_OFFSET, sample_signer, skeleton
from pose.video import VideoStream


def scene(frames: int = 2, size: int = 128):
    signer = sample_signer(np.random.default_rng(1), size, size)
    hand = (np.tile([-0.3, 0.7, -0.3], (frames, 1)), np.zeros((frames, 3)), np.tile(HANDSHAPES["B"], (frames, 1)))
    clean = skeleton(
        signer, np.zeros((frames, 2)), hand, hand, np.zeros((frames, 5)), np.zeros((frames, 3)), size, size
    )
    return signer, clean


def colour_at(img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    x, y = np.round(xy).astype(int)
    return img[y, x].astype(int)


def test_each_part_is_drawn_in_its_colour_where_its_landmarks_are():
    signer, clean = scene()
    frames = list(draw_frames(clean, signer, 128, 128))
    assert len(frames) == 2 and frames[0].shape == (128, 128, 3) and frames[0].dtype == np.uint8
    img = frames[0]
    assert (img[0, 0] == signer.background).all() and (img[0, -1] == signer.background).all()
    palm = [0, 1, 5, 9, 13, 17]
    for offset, colour in ((RIGHT_OFFSET, RIGHT_HAND_COLOUR), (LEFT_OFFSET, LEFT_HAND_COLOUR)):
        centre = clean[0, offset + np.array(palm), :2].mean(0)
        assert np.abs(colour_at(img, centre) - colour).max() <= 2, offset
    chest = (clean[0, 11, :2] + clean[0, 12, :2]) / 2 * 0.6 + (clean[0, 23, :2] + clean[0, 24, :2]) / 2 * 0.4
    assert np.abs(colour_at(img, chest) - signer.shirt).max() <= 2
    forehead = (clean[0, FACE_OFFSET + 10, :2] + clean[0, FACE_OFFSET + 151, :2]) / 2  # no contour line there
    assert np.abs(colour_at(img, forehead) - signer.skin).max() <= 2


def test_frames_are_encoded_one_for_one_at_even_sizes(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (67, 65, 3), dtype=np.uint8) for _ in range(5)]
    assert write_mp4(iter(frames), tmp_path / "v.mp4", fps=25) == 5
    decoded = list(VideoStream(tmp_path / "v.mp4").frames())
    assert len(decoded) == 5 and decoded[0].shape == (66, 64, 3)  # H.264 needs even sizes: the odd edge is cut
    assert write_mp4(iter([]), tmp_path / "none.mp4", fps=25) == 0
