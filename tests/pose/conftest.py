"""The two pose backends as fixtures: a test of one whose mediapipe is not installed skips with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from pose.config import HolisticConfig, backend_problem


def need_backend(name: str) -> None:
    problem = backend_problem(name)
    if problem:
        pytest.skip(f"the {name} pose backend is not installed here: {problem}")


@pytest.fixture(scope="session")
def tasks_bundle(tmp_path_factory) -> Path:
    """A Tasks bundle built once per test session, in a cache of its own (where mediapipe 0.10.21 is
    not installed, its wheel is fetched from the package registry into that cache)."""
    need_backend("tasks")
    from pose.task_bundle import build_bundle

    folder = tmp_path_factory.mktemp("tasks-bundle")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNLLAVA_CACHE", str(folder / "cache"))
        build_bundle(folder / "holistic_landmarker.task")
    return folder / "holistic_landmarker.task"


@pytest.fixture
def legacy() -> HolisticConfig:
    need_backend("legacy")
    return HolisticConfig(backend="legacy")


@pytest.fixture
def tasks(tasks_bundle) -> HolisticConfig:
    return HolisticConfig(backend="tasks", task_bundle=str(tasks_bundle))


@pytest.fixture(params=["legacy", "tasks"])
def holistic(request) -> HolisticConfig:
    """Each backend in turn (each skipped where it is not installed)."""
    return request.getfixturevalue(request.param)
