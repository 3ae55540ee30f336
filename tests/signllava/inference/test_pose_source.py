"""Poses for translate: .pose files at the model's frame rate, and videos' poses cached by content and settings."""

from __future__ import annotations

import numpy as np
import pytest
from pose_format import Pose

from pose.config import HolisticConfig
from pose.errors import InputError
from pose.io import write_pose
from signllava.inference.pose_source import PoseSource
from signllava.inference.timings import Timings
from tests.conftest import write_video
from tests.pose.test_features import synthetic_pose


@pytest.fixture
def source(tmp_path):
    source = PoseSource(cache=tmp_path / "cache", workers=1)  # MediaPipe loads only if a video is extracted
    yield source
    source.close()


def test_a_pose_file_is_read_at_the_models_frame_rate(source, tmp_path):
    pose = synthetic_pose(frames=20)
    body = pose.body.select_frames(np.repeat(np.arange(20), 2))  # each frame twice: the same clip at 50 fps
    body.fps = 50.0
    path = write_pose(Pose(pose.header, body), tmp_path / "fifty.pose")
    timings = Timings()
    got = source.poses(path, timings)
    assert float(got.body.fps) == 25.0 and len(got.body.data) == 20
    np.testing.assert_array_equal(np.asarray(got.body.data.data), np.asarray(pose.body.data.data))
    assert timings.stages == {} and not list((tmp_path / "cache").glob("*"))  # nothing to time, nothing cached
    with pytest.raises(InputError, match="gone.mp4: file not found"):
        source.poses(tmp_path / "gone.mp4", timings)


def test_a_cached_video_is_read_back_without_extracting(source, tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=6)
    cached = source.cached_pose(video)
    assert cached.parent == tmp_path / "cache" and cached.name == f"{source.key(video)}.pose"
    write_pose(synthetic_pose(frames=6), cached)  # as a first translate of this file left it
    timings = Timings()
    pose = source.poses(video, timings)
    assert len(pose.body.data) == 6 and timings.cached_poses and set(timings.stages) == {"hash"}
    assert source.extractor._local is None and source.extractor._pool is None  # no graph was ever built
    source.prefetch([video, tmp_path / "gone.mp4", cached])  # cached, missing, a .pose: nothing to start
    assert not source._pending


def test_cache_keys_change_with_the_file_and_with_the_extraction_settings(source, tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=6)
    key = source.key(video)
    assert key == f"{source.content_hash(video)}-{source.settings_digest()}" and key == source.key(video)
    same = PoseSource(HolisticConfig(), cache=tmp_path / "cache", workers=1)
    assert same.settings_digest() == source.settings_digest()
    heavy = PoseSource(HolisticConfig(min_detection_confidence=0.7), tmp_path / "cache", workers=1)
    thirty = PoseSource(cache=tmp_path / "cache", target_fps=30.0, workers=1)
    assert len({source.settings_digest(), heavy.settings_digest(), thirty.settings_digest()}) == 3
    pose_file = write_pose(synthetic_pose(), tmp_path / "clip.pose")
    assert source.key(pose_file).endswith("-pose25.0") and thirty.key(pose_file).endswith("-pose30.0")
    before = source.content_hash(video)
    write_video(video, frames=8)  # the file is rewritten: another version, another hash
    assert source.content_hash(video) != before and source.key(video) != key


def test_prefetches_run_in_the_order_asked(source, tmp_path, monkeypatch):
    """The next input's prefetch waits for the current one's: it never takes the extraction first."""
    import threading
    import time

    first, second = (write_video(tmp_path / f"{name}.mp4", frames=2) for name in ("first", "second"))
    started, gate = [], threading.Event()

    def extract(path):
        started.append(path.name)
        if path == first:
            gate.wait(10)
        return synthetic_pose(frames=2), 0.0

    monkeypatch.setattr(source, "_extract", extract)
    source.prefetch([first])
    source.prefetch([second, first])  # first is on its way already: not started twice
    deadline = time.monotonic() + 10
    while not started and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # time enough for the second to start, were it not waiting
    assert started == ["first.mp4"]
    gate.set()
    for pending in list(source._pending.values()):
        pending.result(timeout=10)
    assert started == ["first.mp4", "second.mp4"]
