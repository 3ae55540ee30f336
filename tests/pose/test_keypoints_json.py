"""The original SignLLaVA's keypoint JSON read into a Holistic pose: the real file, made-up files, and a
one-line error (naming file, frame and part) for every way a file can be wrong."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from pose.errors import InputError
from pose.features import pose_view_208, sign2vec_view_255
from pose.holistic import NoSignerWarning
from pose.io import read_pose, write_pose
from pose.keypoints_json import clip_name, folder_fps, frame_rate, parse_size, read_keypoints
from tests.conftest import realdata

REAL = ("field", "youtube_asl", "ZZseM50QsOg.004837-004904.json")


def keypoint_doc(frames: int = 6, face: int = 478, seed: int = 0, left: bool | None = None, right: bool = True) -> dict:
    """A clip as the original writes it: a signer whose shoulders sway and whose hands move across the chest,
    in pixels of a 640x480 video, rounded as the original rounds; the left hand absent in odd frames
    (``left=None``), always (``False``) or never (``True``)."""
    rng = np.random.default_rng(seed)
    joints = {}
    for t in range(frames):
        sway = 8 * np.sin(t / 2)
        body = np.column_stack([rng.uniform(200, 440, 33), rng.uniform(120, 470, 33), rng.uniform(-0.5, 0.5, 33)])
        body[11, :2], body[12, :2] = (400 + sway, 300), (240 + sway, 300)  # left, right shoulder
        visibility = rng.uniform(0.6, 1.0, 33)
        centre = np.array([320 + sway, 160])
        face_xy = centre + rng.uniform(-40, 40, (face, 2))
        hands = {}
        for side, x in (("left", 360), ("right", 280)):
            xy = np.array([x + 15 * np.cos(t / 3), 360 - 10 * t]) + rng.uniform(-25, 25, (21, 2))
            hands[side] = np.column_stack([xy, rng.uniform(-0.1, 0.1, 21), np.zeros(21)])
        has_left = (t % 2 == 0) if left is None else left
        joints[str(t)] = {
            "pose_landmarks": np.column_stack([body, visibility]).round(3).tolist(),
            "right_hand_landmarks": hands["right"].round(3).tolist() if right else [],
            "left_hand_landmarks": hands["left"].round(3).tolist() if has_left else [],
            "face_landmarks": np.column_stack([face_xy, rng.uniform(-0.05, 0.05, face), np.zeros(face)])
            .round(3)
            .tolist(),
        }
    return {"joints": joints}


def write_keypoints(path: Path, doc: dict | None = None, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc if doc is not None else keypoint_doc(**kwargs)))
    return path


def test_the_real_file_imports(tmp_path):
    path = realdata(*REAL)
    doc = json.loads(path.read_text())["joints"]
    pose = read_keypoints(path, fps=30)
    assert len(pose.body.data) == 68 and pose.body.fps == 30
    names = [(c.name, len(c.points)) for c in pose.header.components]
    assert names == [
        ("POSE_LANDMARKS", 33),
        ("FACE_LANDMARKS", 478),
        ("LEFT_HAND_LANDMARKS", 21),
        ("RIGHT_HAND_LANDMARKS", 21),
        ("POSE_WORLD_LANDMARKS", 33),
    ]
    conf = pose.body.confidence[:, 0]
    left, right, face = conf[:, 511:532], conf[:, 532:553], conf[:, 33:511]
    empty = [int(k) for k, frame in doc.items() if not frame["left_hand_landmarks"]]
    assert len(empty) == 40 and (left[empty] == 0).all() and (pose.body.data.data[empty, 0, 511:532] == 0).all()
    assert (np.delete(left, empty, 0) == 1).all()
    assert (right == 1).all() and (face == 1).all()  # found: 1, not the 0.0 the file carries as a 4th number
    assert (conf[:, 553:] == 0).all()  # no world landmarks in the file: masked
    first = doc["0"]
    np.testing.assert_allclose(conf[0, :33], [p[3] for p in first["pose_landmarks"]], rtol=1e-6)
    np.testing.assert_allclose(pose.body.data.data[0, 0, 33:36], [p[:3] for p in first["face_landmarks"][:3]], 1e-5)
    # the frame size is the extent of the face, hands and visible body points
    assert (pose.header.dimensions.width, pose.header.dimensions.height) == (392, 531)
    for view, dim in ((pose_view_208, 208), (sign2vec_view_255, 255)):
        features, found = view(pose)
        assert features.shape == (68, dim) and np.isfinite(features).all() and found.any()
    write_pose(pose, tmp_path / "clip.pose")
    again = read_pose(tmp_path / "clip.pose")
    np.testing.assert_array_equal(again.body.data.data, pose.body.data.data)


def test_a_made_up_clip_keeps_every_number(tmp_path):
    doc = keypoint_doc(frames=4)
    pose = read_keypoints(write_keypoints(tmp_path / "v.000010-000013.json", doc), fps=25, size=(640, 480))
    assert (pose.header.dimensions.width, pose.header.dimensions.height) == (640, 480)
    data, conf = pose.body.data.data[:, 0], pose.body.confidence[:, 0]
    for t, frame in enumerate(doc["joints"].values()):
        body = np.array(frame["pose_landmarks"])
        np.testing.assert_allclose(data[t, :33], body[:, :3], rtol=1e-6)
        np.testing.assert_allclose(conf[t, :33], body[:, 3], rtol=1e-6)
        np.testing.assert_allclose(data[t, 532:553], np.array(frame["right_hand_landmarks"])[:, :3], rtol=1e-6)
        assert conf[t, 511:532].all() == bool(frame["left_hand_landmarks"])


def test_frames_in_numeric_order_not_key_order(tmp_path):
    doc = keypoint_doc(frames=12)
    shuffled = {"joints": {k: doc["joints"][k] for k in sorted(doc["joints"])}}  # "0", "1", "10", "11", "2" ...
    pose = read_keypoints(write_keypoints(tmp_path / "c.json", shuffled), fps=25)
    wrist = [frame["pose_landmarks"][15][0] for frame in doc["joints"].values()]
    np.testing.assert_allclose(pose.body.data.data[:, 0, 15, 0], wrist, rtol=1e-6)


def test_a_468_point_face_and_3_numbers_per_point(tmp_path):
    doc = keypoint_doc(frames=3, face=468)
    for frame in doc["joints"].values():
        frame["face_landmarks"] = [p[:3] for p in frame["face_landmarks"]]
        frame["right_hand_landmarks"] = [p[:3] for p in frame["right_hand_landmarks"]]
    pose = read_keypoints(write_keypoints(tmp_path / "c.json", doc), fps=25)
    assert [len(c.points) for c in pose.header.components][1] == 468
    features, found = pose_view_208(pose)  # the iris centres from the eye corners
    assert np.isfinite(features).all() and found[:, -2:].all()
    write_pose(pose, tmp_path / "c.pose")
    read_pose(tmp_path / "c.pose")


def test_no_signer_is_a_warning_and_every_point_masked(tmp_path):
    doc = {
        "joints": {
            str(t): dict.fromkeys(
                ("pose_landmarks", "face_landmarks", "left_hand_landmarks", "right_hand_landmarks"), []
            )
            for t in range(3)
        }
    }
    with pytest.warns(NoSignerWarning, match="no signer"):
        pose = read_keypoints(write_keypoints(tmp_path / "c.json", doc), fps=25)
    assert not pose.body.confidence.any() and len(pose.body.data) == 3
    assert [len(c.points) for c in pose.header.components][1] == 478


@pytest.mark.parametrize(
    "name,folder,given,fps",
    [
        ("v.000001-000006.25fps.json", "kp", None, 25.0),
        ("v.000001-000006.json", "youtube_asl_29.97fps", None, 29.97),
        ("v.000001-000006.json", "30fps/more", None, 30.0),
        ("v.000001-000006.json", "kp", 24.0, 24.0),
        ("v.000001-000006.24FPS.json", "kp_30fps", None, 24.0),  # the name is nearer than the folder
        ("v.000001-000006.30fps.json", "kp", 30.0, 30.0),
    ],
)
def test_the_frame_rate_given_or_named(tmp_path, name, folder, given, fps):
    path = write_keypoints(tmp_path / folder / name)
    assert frame_rate(path, given) == fps
    assert read_keypoints(path, given).body.fps == pytest.approx(fps)
    assert clip_name(path).clip == "v.000001-000006"


def test_a_frame_rate_never_guessed(tmp_path):
    path = write_keypoints(tmp_path / "kp" / "v.000001-000006.json")
    with pytest.raises(InputError, match=r"v\.000001-000006\.json: no frame rate.*--fps"):
        read_keypoints(path)
    named = write_keypoints(tmp_path / "kp" / "v.000001-000006.25fps.json")
    with pytest.raises(InputError, match="--fps 30 but its name says 25 fps"):
        read_keypoints(named, 30.0)
    assert folder_fps(tmp_path / "v.29.97fps" / "x.json") is None  # a dot before it: a number of the name
    assert folder_fps(tmp_path / "set_25fps0" / "x.json") is None
    with pytest.raises(InputError, match="is no video's"):
        frame_rate(path, 0.0)


def test_names_and_sizes():
    name = clip_name("ZZseM50QsOg.004837-004904.json")
    assert (name.video, name.start, name.end, name.frames, name.fps) == ("ZZseM50QsOg", 4837, 4904, 68, None)
    name = clip_name("a.b.000001-000002.25fps.json")  # the range's end is no part of the rate
    assert (name.clip, name.video, name.fps) == ("a.b.000001-000002", "a.b", 25.0)
    assert clip_name("my clip.json").video is None and clip_name("my clip.json").clip == "my clip"
    assert parse_size("1280x720") == (1280, 720) and parse_size(" 64 X 48 ") == (64, 48)
    for bad in ("1280", "0x10", "70000x10", "axb", ""):
        with pytest.raises(InputError, match="--size must be WIDTHxHEIGHT"):
            parse_size(bad)


def _edit(doc: dict, frame: str, part: str, value) -> dict:
    doc["joints"][frame][part] = value
    return doc


def _point(doc: dict, frame: str, part: str, point: int, value) -> dict:
    doc["joints"][frame][part][point] = value
    return doc


def _doc() -> dict:
    return keypoint_doc(frames=4, left=True)


BAD = {
    "not JSON": (b"{bad", "not valid JSON"),
    "not UTF-8": (b'{"joints": "caf\xe9"}', "not UTF-8"),
    "a list": ([1, 2], "not keypoint JSON: expected"),
    "no joints": ({"frames": {}}, "not keypoint JSON: expected"),
    "no frames": ({"joints": {}}, "no frames"),
    "a frame key not a number": (lambda: {"joints": {"a": _doc()["joints"]["0"]}}, "frame key 'a' is not a frame"),
    "a frame twice": (lambda: {"joints": {"1": _doc()["joints"]["0"], "01": _doc()["joints"]["1"]}}, "same frame"),
    "a key twice": (b'{"joints": {"0": {}, "0": {}}}', "key '0' appears twice"),
    "a gap": (lambda: {"joints": {k: v for k, v in _doc()["joints"].items() if k != "2"}}, "frame 2 is missing"),
    "a frame not an object": (lambda: {"joints": {"0": []}}, "frame 0 is a list, expected an object"),
    "a part missing": (lambda: {"joints": {"0": {"pose_landmarks": []}}}, "frame 0 has no face_landmarks"),
    "a part not a list": (lambda: _edit(_doc(), "1", "left_hand_landmarks", None), "frame 1, left_hand_landmarks: a"),
    "too few body points": (
        lambda: _edit(_doc(), "2", "pose_landmarks", _doc()["joints"]["2"]["pose_landmarks"][:32]),
        "frame 2, pose_landmarks: 32 points, expected 33",
    ),
    "a face of 470 points": (
        lambda: _edit(_doc(), "0", "face_landmarks", _doc()["joints"]["0"]["face_landmarks"][:470]),
        "frame 0, face_landmarks: 470 points, expected 478 or 468",
    ),
    "faces of 478 and 468 points": (
        lambda: _edit(_doc(), "3", "face_landmarks", _doc()["joints"]["3"]["face_landmarks"][:468]),
        "frame 3, face_landmarks: 468 points, expected 478",
    ),
    "a hand point of 2 numbers": (
        lambda: _point(_doc(), "1", "right_hand_landmarks", 4, [1.0, 2.0]),
        "frame 1, right_hand_landmarks: expected a list of points",
    ),
    "body points of 3 numbers": (
        lambda: _edit(_doc(), "1", "pose_landmarks", [p[:3] for p in _doc()["joints"]["1"]["pose_landmarks"]]),
        r"frame 1, pose_landmarks: points of 3 numbers, expected 4 \(x, y, z, visibility\)",
    ),
    "a string for a number": (
        lambda: _point(_doc(), "2", "face_landmarks", 7, ["1.5", 2.0, 0.0, 0.0]),
        "frame 2, face_landmarks: expected a list of points",
    ),
    "NaN": (
        lambda: _point(_doc(), "2", "pose_landmarks", 5, [float("nan"), 1, 0, 1]),
        "frame 2, pose_landmarks, point 5: a value that is no finite number",
    ),
    "a number past float": (
        lambda: json.dumps(_doc()).replace(str(_doc()["joints"]["0"]["pose_landmarks"][0][0]), "1e400", 1).encode(),
        "frame 0, pose_landmarks, point 0: a value that is no finite number",
    ),
    "visibility above 1": (
        lambda: _point(_doc(), "1", "pose_landmarks", 20, [1, 2, 0, 1.5]),
        "frame 1, pose_landmarks, point 20: visibility 1.5 is not between 0 and 1",
    ),
    "a point far away": (
        lambda: _point(_doc(), "3", "left_hand_landmarks", 2, [1e12, 2, 0, 0]),
        "frame 3, left_hand_landmarks, point 2: a coordinate 1000 frame sizes or more outside",
    ),
}


@pytest.mark.parametrize("content,message", BAD.values(), ids=BAD.keys())
def test_a_bad_file_is_one_line_naming_file_frame_and_part(tmp_path, content, message):
    content = content() if callable(content) else content
    path = tmp_path / "clip.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError) as err:
            read_keypoints(path, fps=25)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and "\n" not in text and len(text) < 400, text
    assert message in text or re.search(message, text), text


def test_the_names_frame_range_must_match(tmp_path):
    path = write_keypoints(tmp_path / "v.000010-000019.json", frames=6)
    with pytest.raises(InputError, match=r"the name says frames 10-19 \(10 frames\) but the file has 6"):
        read_keypoints(path, fps=25)
    assert len(read_keypoints(write_keypoints(tmp_path / "v.000010-000015.json", frames=6), 25).body.data) == 6


def test_the_real_annotations_name_clips_as_the_import_writes_them():
    """Every clip of the original's annotation subset is ``<video>.<start>-<end>``: its keypoint file is imported
    to ``<video>/<clip>.pose``, the sentence name ``video/clip`` the annotations give it."""
    from pose.keypoints_batch import output_path

    doc = json.loads(realdata("field", "youtube_asl", "YT.annotations.subset.json").read_text())
    clips = [(video, clip) for video, entry in doc.items() for clip in entry["clip_order"]]
    assert len(clips) == 1033
    for video, clip in clips:
        assert output_path(Path(f"{clip}.json"), Path(f"{clip}.json")).as_posix() == f"{video}/{clip}.pose"
        name = clip_name(f"{clip}.json")
        assert name.frames is not None and name.frames > 0
