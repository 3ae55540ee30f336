"""The pose stage's settings: every invalid value is refused on construction, in one line."""

from __future__ import annotations

import pytest

from pose.config import ExtractConfig, HolisticConfig, VideoConfig
from pose.errors import InputError


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: HolisticConfig(model_complexity=3), "holistic.model_complexity=3 is invalid: expected 0, 1 or 2"),
        (lambda: HolisticConfig(min_detection_confidence=1.5), "holistic.min_detection_confidence=1.5 is invalid"),
        (lambda: HolisticConfig(min_tracking_confidence=-0.1), "holistic.min_tracking_confidence=-0.1 is invalid"),
        (lambda: VideoConfig(backend="ffmpeg"), "video.backend='ffmpeg' is invalid: expected one of auto, decord"),
        (lambda: VideoConfig(target_fps=0), "video.target_fps=0 is invalid"),
        (lambda: VideoConfig(target_fps=float("nan")), "video.target_fps=nan is invalid"),
        (lambda: VideoConfig(target_fps=2000), "video.target_fps=2000 is invalid"),
        (lambda: ExtractConfig(workers=-1), "workers=-1 is invalid"),
        (lambda: ExtractConfig(num_shards=0), "num_shards=0 is invalid: expected at least 1"),
        (lambda: ExtractConfig(shard=2, num_shards=2), "shard=2 is invalid: expected an index in [0, 1]"),
        (lambda: ExtractConfig(shard=-1), "shard=-1 is invalid"),
    ],
)
def test_invalid_values_are_refused(make, message):
    with pytest.raises(InputError) as err:
        make()
    assert message in str(err.value) and str(err.value).startswith("config value ")


def test_valid_edges_and_the_mediapipe_arguments():
    for complexity in (0, 1, 2):
        HolisticConfig(model_complexity=complexity, min_detection_confidence=0.0, min_tracking_confidence=1.0)
    assert VideoConfig(target_fps=1000).target_fps == 1000 and VideoConfig().target_fps is None
    assert ExtractConfig(shard=1, num_shards=2, workers=0).shard == 1
    heavy = HolisticConfig(model_complexity=2, refine_face_landmarks=True, static_image_mode=True)
    assert heavy.mediapipe_kwargs() == {
        "static_image_mode": True,
        "model_complexity": 2,
        "smooth_landmarks": True,
        "refine_face_landmarks": True,
        "min_detection_confidence": 0.5,
        "min_tracking_confidence": 0.5,
    }
