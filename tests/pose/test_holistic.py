from __future__ import annotations

import numpy as np
import pytest

from pose.compare import best_offset, mean_pixel_difference
from pose.config import HolisticConfig, VideoConfig
from pose.holistic import HolisticExtractor, NoSignerWarning, extract_pose, quiet_mediapipe
from pose.io import read_pose, write_pose
from pose.topology import holistic_components
from tests.conftest import realdata

# The real-pair tolerances from ../shared/realdata/README.md (a fresh pose-format run vs the
# reference): face < 1 px, hands about 1-4 px, body about 2-8 px mean absolute difference. The
# references were made from other encodings (what_is_your_name at 30 fps, starting ~0.06 s
# later), so frames are paired by time after finding that constant offset.
TOLERANCE_PX = {"FACE_LANDMARKS": 1.0, "LEFT_HAND_LANDMARKS": 4.0, "RIGHT_HAND_LANDMARKS": 4.0, "POSE_LANDMARKS": 8.0}


def test_video_without_a_person_is_masked_with_a_warning(make_video, tmp_path, holistic):
    path = make_video(frames=8, size=(128, 96))
    with pytest.warns(NoSignerWarning, match="clip.mp4: no signer found in any of 8 frames"):
        pose = extract_pose(path, holistic)
    assert pose.body.data.shape == (8, 1, 576, 3)
    # either backend writes pose-format's Holistic header with 468 face points
    theirs = [(c.name, c.points, c.limbs, c.format) for c in holistic_components("XYZC", 0)]
    assert [(c.name, c.points, c.limbs, c.format) for c in pose.header.components] == theirs
    assert not pose.body.confidence.any()
    assert pose.body.data.mask.all()  # pose-format masks confidence-0 points
    back = read_pose(write_pose(pose, tmp_path / "empty.pose"))  # a valid, readable file
    assert back.body.data.shape == (8, 1, 576, 3)


def test_header_matches_pose_format_holistic(make_video, legacy):
    with pytest.warns(NoSignerWarning):
        pose = extract_pose(make_video(frames=2), HolisticConfig(backend="legacy", refine_face_landmarks=True))
    ours = [(c.name, c.points, c.limbs, c.format) for c in pose.header.components]
    theirs = [(c.name, c.points, c.limbs, c.format) for c in holistic_components("XYZC", 10)]
    assert ours == theirs
    assert (pose.header.dimensions.width, pose.header.dimensions.height) == (96, 64)
    assert pose.body.fps == 25


@pytest.mark.slow
@pytest.mark.parametrize("name", ["what_is_your_name", "autsl_signer0_sample1000"])
def test_agrees_with_reference_extraction(name, holistic):
    video = realdata("pose_pairs", f"{name}.mp4")
    reference = read_pose(realdata("pose_pairs", f"{name}.reference.pose"))
    pose = extract_pose(video, holistic)
    offset = best_offset(pose, reference)
    assert abs(offset) <= 0.1
    diffs = mean_pixel_difference(pose, reference, offset=offset)
    for comp, (mean, count) in diffs.items():
        assert count > 0, f"{comp}: never found in both"
        assert mean < TOLERANCE_PX[comp], f"{comp}: {mean:.2f} px mean difference"


@pytest.mark.slow
def test_reused_graph_equals_fresh_graph(holistic):
    """Keeping one graph alive across videos must not change any landmark (tracking is reset; the
    Tasks graph, which has no reset, by a new landmarker)."""
    a = realdata("pose_pairs", "autsl_signer0_sample1000.mp4")
    b = realdata("pose_pairs", "what_is_your_name.mp4")
    video = VideoConfig()
    with quiet_mediapipe():
        with HolisticExtractor(holistic) as fresh:
            expected = fresh.process_video(b, video)
        with HolisticExtractor(holistic) as reused:
            reused.process_video(a, video)
            got = reused.process_video(b, video)
    np.testing.assert_array_equal(np.asarray(got.body.data.data), np.asarray(expected.body.data.data))
    np.testing.assert_array_equal(got.body.confidence, expected.body.confidence)


def test_a_frame_repeated_by_resampling_runs_through_the_graph_once():
    class CountingGraph:
        calls = 0

        def reset(self):
            self.calls = 0

        def process(self, frame):
            self.calls += 1
            return self.calls

    extractor = HolisticExtractor.__new__(HolisticExtractor)  # no MediaPipe: the graph is a stand-in
    extractor._graph = CountingGraph()
    extractor.frame_arrays = lambda results, w, h: (np.full((2, 3), results, np.float32), np.ones(2, np.float32))
    a, b = np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8)  # equal pixels, distinct frames
    data, _ = extractor.landmarks([a, a, b, b, b, a], 4, 4, skip=1)
    assert extractor._graph.calls == 3  # a, b, then a again after b
    assert [int(d[0, 0]) for d in data] == [1, 2, 2, 2, 3]


def test_live_frames_stamped_at_their_steps_equal_a_videos_landmarks(holistic):
    """signllava live stamps each frame at its step of the source's clock (process_at): with no frame
    missing, the landmarks are the video's, bit for bit, on either backend; a missing step moves them."""
    from pose.video import VideoStream

    frames = list(VideoStream(realdata("pose_pairs", "what_is_your_name.mp4")).frames())[:24]
    with quiet_mediapipe():
        with HolisticExtractor(holistic) as offline:
            data, conf = offline.landmarks(frames, 320, 240)
        with HolisticExtractor(holistic) as live:
            stamped = [live.process_at(frame, step, 320, 240) for step, frame in enumerate(frames)]
        with HolisticExtractor(holistic) as gap:  # frame 10 dropped: a step of the clock is missing
            gapped = [gap.process_at(frames[step], step, 320, 240) for step in [*range(10), *range(11, 24)]]
    assert all(np.array_equal(d, s[0]) and np.array_equal(c, s[1]) for d, c, s in zip(data, conf, stamped, strict=True))
    assert all(np.array_equal(d, s[0]) for d, s in zip(data[:10], gapped[:10], strict=True))
    assert not all(np.array_equal(d, s[0]) for d, s in zip(data[11:], gapped[10:], strict=True))
