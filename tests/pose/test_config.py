"""The pose stage's settings: every invalid value is refused on construction, in one line."""

from __future__ import annotations

import pytest

from pose import config as pose_config
from pose.config import ExtractConfig, HolisticConfig, VideoConfig, backend_problem
from pose.errors import InputError
from pose.holistic import HolisticExtractor


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: HolisticConfig(model_complexity=3), "holistic.model_complexity=3 is invalid: expected 0, 1 or 2"),
        (lambda: HolisticConfig(min_detection_confidence=1.5), "holistic.min_detection_confidence=1.5 is invalid"),
        (lambda: HolisticConfig(min_tracking_confidence=-0.1), "holistic.min_tracking_confidence=-0.1 is invalid"),
        (lambda: HolisticConfig(backend="gpu"), "holistic.backend='gpu' is invalid: expected one of auto, legacy"),
        (
            lambda: HolisticConfig(backend="tasks", model_complexity=2),
            "holistic.model_complexity=2 is invalid: expected 1 with holistic.backend=tasks",
        ),
        (
            lambda: HolisticConfig(backend="tasks", refine_face_landmarks=True),
            "holistic.refine_face_landmarks=True is invalid: expected false with holistic.backend=tasks",
        ),
        (lambda: HolisticConfig(backend="tasks", smooth_landmarks=False), "holistic.smooth_landmarks=False is invalid"),
        (lambda: HolisticConfig(backend="tasks", static_image_mode=True), "holistic.static_image_mode=True is invalid"),
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
        HolisticConfig("legacy", model_complexity=complexity, min_detection_confidence=0.0, min_tracking_confidence=1.0)
    assert VideoConfig(target_fps=1000).target_fps == 1000 and VideoConfig().target_fps is None
    assert ExtractConfig(shard=1, num_shards=2, workers=0).shard == 1
    heavy = HolisticConfig(backend="legacy", model_complexity=2, refine_face_landmarks=True, static_image_mode=True)
    assert heavy.mediapipe_kwargs() == {
        "static_image_mode": True,
        "model_complexity": 2,
        "smooth_landmarks": True,
        "refine_face_landmarks": True,
        "min_detection_confidence": 0.5,
        "min_tracking_confidence": 0.5,
    }


@pytest.mark.parametrize(
    "installed, default",
    [({"legacy", "tasks"}, "legacy"), ({"tasks"}, "tasks"), ({"legacy"}, "legacy"), (set(), "legacy")],
)
def test_auto_is_the_legacy_graph_where_installed_else_the_tasks_one(monkeypatch, installed, default):
    monkeypatch.setattr(pose_config, "backend_installed", lambda backend: backend in installed)
    assert HolisticConfig().backend == default  # resolved at once: saved configs name the backend used
    assert HolisticConfig(backend="tasks").backend == "tasks"


def test_a_backend_that_is_not_installed_is_one_line_not_an_import_error(monkeypatch):
    monkeypatch.setattr(pose_config, "backend_installed", lambda backend: backend == "tasks")
    monkeypatch.setattr(pose_config, "mediapipe_version", lambda: "1.2.3")
    with pytest.raises(InputError) as err:
        HolisticExtractor(HolisticConfig(backend="legacy"))
    assert str(err.value) == (
        "holistic.backend=legacy needs mediapipe==0.10.21 (Python 3.10-3.12), but mediapipe 1.2.3 is installed, "
        "which has only the Tasks API: use holistic.backend=tasks (--pose-backend tasks)"
    )
    monkeypatch.setattr(pose_config, "backend_installed", lambda backend: False)
    monkeypatch.setattr(pose_config, "mediapipe_version", lambda: None)
    assert "but mediapipe is not installed" in backend_problem("tasks")
    assert "but no mediapipe" in backend_problem("legacy")
