from __future__ import annotations

import numpy as np
import pytest

from pose.errors import VideoError
from pose.video import VideoStream, nearest_frames, probe, resample_plan, resample_pose
from tests.conftest import realdata


@pytest.mark.parametrize("backend", ["decord", "pyav", "opencv"])
def test_probe_and_stream_every_backend(make_video, backend):
    path = make_video(frames=12, fps=25, size=(96, 64))
    info = probe(path, backend)
    assert (info.fps, info.width, info.height) == (25.0, 96, 64)
    frames = list(VideoStream(path, backend).frames())
    assert len(frames) == 12
    assert frames[0].shape == (64, 96, 3) and frames[0].dtype == np.uint8 and frames[0].flags.c_contiguous


def test_backends_decode_the_same_pixels(make_video):
    path = make_video(frames=5)
    a = np.stack(list(VideoStream(path, "pyav").frames())).astype(int)
    b = np.stack(list(VideoStream(path, "opencv").frames())).astype(int)
    assert np.abs(a - b).mean() < 3  # same decoder family; colour conversion may round differently


@pytest.mark.parametrize("src,dst,n", [(30, 25, 30), (120, 25, 120), (24, 25, 24), (25, 25, 25), (10, 30, 10)])
def test_resample_plan_keeps_duration(src, dst, n):
    fps, repeat = resample_plan(src, dst)
    out = sum(repeat(i) for i in range(n))
    assert fps == dst
    assert abs(out - n * dst / src) <= 1


RATES = [(30, 25, 30), (120, 25, 120), (24, 25, 24), (25, 25, 25), (10, 30, 10), (30, 25, 1)]


@pytest.mark.parametrize("src,dst,n", RATES)
def test_nearest_frames_follow_the_streams_rule(src, dst, n):
    """Whole-array resampling (for .pose files) picks exactly the frames a resampled video stream emits."""
    _, repeat = resample_plan(src, dst)
    streamed = [i for i in range(n) for _ in range(repeat(i))]
    assert nearest_frames(n, src, dst).tolist() == streamed


def test_resample_pose_by_nearest_frame():
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    component = PoseHeaderComponent("P", ["a", "b"], [(0, 1)], [(255, 0, 0)], "XYC")
    header = PoseHeader(0.1, PoseHeaderDimensions(10, 10, 1), [component])
    frames = np.arange(30, dtype=np.float32)  # frame i holds the value i
    data = np.repeat(frames[:, None, None, None], 2, axis=2).repeat(2, axis=3)
    pose = Pose(header, NumPyPoseBody(30, data, np.ones((30, 1, 2), np.float32)))
    same = resample_pose(pose, 30.0)
    assert same is pose
    out = resample_pose(pose, 25.0)
    assert float(out.body.fps) == 25.0 and len(out.body.data) == 25
    assert out.body.data[:, 0, 0, 0].tolist() == nearest_frames(30, 30, 25).tolist()
    assert float(pose.body.fps) == 30  # the input is left as it was


def test_resampled_stream_is_streamed_and_timed(make_video):
    path = make_video(frames=30, fps=30)
    stream = VideoStream(path, target_fps=25)
    frames = stream.frames()
    assert not isinstance(frames, list)  # a generator, not the whole video in memory
    assert stream.fps == 25 and abs(len(list(frames)) - 25) <= 1


def test_odd_frame_rate_real_video():
    path = realdata("pose_pairs", "what_is_your_name_120fps.mp4")
    stream = VideoStream(path, target_fps=25)
    assert stream.source.fps == pytest.approx(120, abs=0.5)
    n = sum(1 for _ in stream.frames())
    assert abs(n - stream.source.num_frames * 25 / stream.source.fps) <= 2


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match="nope.mp4: file not found"):
        probe(tmp_path / "nope.mp4")


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    with pytest.raises(VideoError, match="notes.mp4: not a readable video") as err:
        probe(path)
    assert "\n" not in str(err.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(VideoError, match="empty.mp4: empty file"):
        probe(path)


def test_zero_frame_video(tmp_path):
    import av

    path = tmp_path / "zero.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        c.start_encoding()  # header and trailer, no frames
    with pytest.raises(VideoError, match="zero.mp4: .*(no frames|no video stream|not a readable video)"):
        list(VideoStream(path).frames())


def test_truncated_video(make_video, tmp_path):
    good = make_video(frames=40, size=(128, 96))
    bad = tmp_path / "truncated.mp4"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(VideoError, match="truncated.mp4"):
        list(VideoStream(bad).frames())


def test_unreadable_fps(make_video, monkeypatch):
    import decord

    path = make_video(frames=3)
    monkeypatch.setattr(decord.VideoReader, "get_avg_fps", lambda self: 0.0)
    with pytest.raises(VideoError, match=r"clip.mp4: unreadable frame rate \(0.0 fps\)"):
        probe(path, "decord")


def test_bad_target_fps(make_video):
    with pytest.raises(VideoError, match="target fps must be positive"):
        VideoStream(make_video(frames=3), target_fps=-5)


def test_prefetch_passes_frames_errors_and_stops_early():
    import time

    from pose.video import prefetch

    assert list(prefetch(iter(range(10)), depth=2)) == list(range(10))

    def broken():
        yield 1
        raise ValueError("decoder broke")

    with pytest.raises(ValueError, match="decoder broke"):
        list(prefetch(broken()))

    def endless():
        while True:
            yield 0

    start = time.perf_counter()
    gen = prefetch(endless(), depth=2)
    next(gen)
    gen.close()  # the consumer stops: the thread must not stay blocked on a full queue
    assert time.perf_counter() - start < 2
