from __future__ import annotations

import warnings

import numpy as np
import pytest

from pose.config import VideoConfig
from pose.errors import InputError
from pose.holistic import NoSignerWarning, extract_pose
from pose.parallel import ParallelExtractor, chunk_bounds, landmark_difference
from tests.conftest import realdata


def test_chunk_bounds_cover_every_frame_once():
    assert chunk_bounds(100, 2, 40) == [(0, 50), (50, None)]
    assert chunk_bounds(100, 4, 40) == [(0, 50), (50, None)]  # chunks of < 40 frames are not worth a worker
    assert chunk_bounds(30, 2, 40) == [(0, None)]
    assert chunk_bounds(1000, 3, 40) == [(0, 333), (333, 667), (667, None)]


@pytest.fixture(scope="module")
def extractor():
    with ParallelExtractor(workers=2, min_frames=10) as px:
        yield px


def test_chunks_join_into_the_whole_video(extractor, make_video):
    video = make_video(frames=30, fps=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoSignerWarning)
        pose = extractor.extract(video, VideoConfig(target_fps=25))
        single = extract_pose(video, video=VideoConfig(target_fps=25))
    assert pose.body.data.shape == single.body.data.shape and float(pose.body.fps) == 25.0


def test_bad_files_fail_with_one_line(extractor, tmp_path):
    with pytest.raises(InputError, match="gone.mp4: file not found"):
        extractor.extract(tmp_path / "gone.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(InputError, match="junk.mp4"):
        extractor.extract(tmp_path / "junk.mp4")


# mean pixel distance over frames after one seam: the Tasks graph settles a little more slowly
# after the 8 warm-up frames than the legacy one (its mean differs by about 0.5 px, legacy's 0.37)
SEAM_MEAN_PX = {"legacy": 0.5, "tasks": 0.6}


@pytest.mark.slow
def test_two_graphs_match_one_graph_on_a_real_clip(holistic):
    clip = max(realdata("how2sign", "clips").glob("*.mp4"), key=lambda p: p.stat().st_size)
    video = VideoConfig(target_fps=25)
    with ParallelExtractor(holistic, workers=2, min_frames=10) as extractor:
        split = extractor.extract(clip, video)
    whole = extract_pose(clip, holistic, video)
    assert split.body.data.shape == whole.body.data.shape
    diff = landmark_difference(split, whole)  # mean pixel distance per frame (1280 x 720 video)
    assert diff.mean() < SEAM_MEAN_PX[holistic.backend], (diff.mean(), diff.max())
    assert np.percentile(diff, 95) < 2.0, (diff.mean(), diff.max())
    found_split, found_whole = split.body.confidence[:, 0] > 0, whole.body.confidence[:, 0] > 0
    assert (found_split == found_whole).mean() > 0.99


def test_abort_kills_an_extraction_under_way_and_refuses_more(make_video):
    from concurrent.futures import ThreadPoolExecutor

    video = make_video(frames=1000)
    px = ParallelExtractor(workers=2, min_frames=10).start()
    with ThreadPoolExecutor(1) as thread:
        running = thread.submit(px.extract, video)
        px.abort()
        error = running.exception()
    assert error is not None  # killed (BrokenProcessPool) or refused, never finished
    with pytest.raises(RuntimeError, match="aborted"):
        px.extract(video)
    px.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_counts_every_frame(extractor, make_video, workers):
    video = make_video(frames=30, fps=25)
    calls = []
    px = extractor if workers == 2 else ParallelExtractor(workers=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoSignerWarning)
        pose = px.extract(video, VideoConfig(), on_frame=lambda done, total: calls.append((done, total)))
    frames = len(pose.body.data)
    assert calls[-1] == (frames, frames)
    done = [d for d, _ in calls]
    assert done == sorted(done) and all(d <= total for d, total in calls)
    if workers == 1:
        assert len(calls) > frames  # one call a frame, then the exact count
        px.close()
