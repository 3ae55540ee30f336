"""The original SignLLaVA's keypoint JSON (its YouTube-ASL pipeline: one file per clip) as a Holistic ``.pose``.

The original wrote MediaPipe Holistic's landmarks of a clip as::

    {"joints": {"<frame>": {"pose_landmarks": [[x, y, z, visibility], ...33],
                            "face_landmarks": [[x, y, z, 0.0], ...478],
                            "left_hand_landmarks": [...21 or []], "right_hand_landmarks": [...21 or []]}}}

x and y in pixels, z as MediaPipe gives it, an empty list for a part not found in a frame. Clip files
are named ``<video>.<start>-<end>.json`` (frame numbers of the video, both included: ``004837-004904``
is 68 frames), the clip names the original's annotation JSON uses.

Read into our Holistic header (:func:`pose.holistic.holistic_header`, the 478-point refined face, or
468 points where the file has those), frames in the numeric order of their keys: a body point's
confidence is its visibility; a found face or hand point gets confidence 1 (its 4th number, 0.0 in
the original's files, is no confidence: MediaPipe gives visibility for body points only); a part
absent from a frame, and POSE_WORLD_LANDMARKS (not in the file), are masked (confidence 0, data 0).

What the file does not say is asked for, never guessed:

* the frame rate: ``fps``, else the file's name, ``<clip>.<N>fps.json`` (a whole number: ``.25fps``),
  else the nearest folder on its path named with a ``<N>fps`` token (``youtube_asl_29.97fps/``,
  ``30fps/``; the token stands alone: nothing but a separator other than a dot before it, nothing
  but a separator after it); none, or two that disagree, is a one-line error;
* the frame size: ``size`` (``WIDTHxHEIGHT``), else the extent of the points: the largest x and y of
  the face, hand and body points (body points with visibility 0.5 or more: MediaPipe places unseen
  ones, e.g. the legs, outside the frame), rounded up. It is the header's frame size (drawing,
  the Sign2Vec view's z scale); the 208-value pose view does not depend on it.

Checked, each a one-line :class:`~pose.errors.InputError` naming the file, frame and part: the layout;
frame keys are whole numbers, none twice, none missing between the first and the last (a gap is an
error, not masked frames: the original wrote every frame, so a gap is a damaged file); the name's
frame range agrees with the number of frames; each part has its point count (33, 468 or 478, 21, 21,
the face's the same in every frame) with 4 numbers per point (face and hands: 3 or 4), every number
finite and no farther from the frame than :data:`pose.io.FAR` frame sizes, visibilities in [0, 1].
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pose_format import Pose

from .config import HolisticConfig
from .errors import InputError, quoted
from .holistic import BODY_POINTS, HAND_POINTS, IRIS_POINTS, build_pose
from .io import FAR

SUFFIX = ".json"
FACE_POINTS = (468 + IRIS_POINTS, 468)  # refined (the original's) or not
# part key -> (our component, point counts it may have, numbers per point it may have)
PARTS = {
    "pose_landmarks": ("POSE_LANDMARKS", (BODY_POINTS,), (4,)),
    "face_landmarks": ("FACE_LANDMARKS", FACE_POINTS, (4, 3)),
    "left_hand_landmarks": ("LEFT_HAND_LANDMARKS", (HAND_POINTS,), (4, 3)),
    "right_hand_landmarks": ("RIGHT_HAND_LANDMARKS", (HAND_POINTS,), (4, 3)),
}
VISIBLE = 0.5  # body points at least this visible count towards the frame's extent
MAX_SIDE = 65535  # the largest frame side a .pose header holds
LAYOUT = '{"joints": {"<frame>": {"pose_landmarks": [[x, y, z, visibility], ...], "face_landmarks": ..., ...}}}'

_FPS_IN_FILE_NAME = re.compile(r"^(?P<clip>.+)\.(?P<fps>[0-9]+)fps$", re.IGNORECASE)
_FPS_IN_FOLDER_NAME = re.compile(r"(?<![0-9A-Za-z.])([0-9]+(?:\.[0-9]+)?)fps(?![0-9A-Za-z])", re.IGNORECASE)
_FRAME_RANGE = re.compile(r"^(?P<video>.+)\.(?P<start>[0-9]+)-(?P<end>[0-9]+)$")
_FRAME_KEY = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class ClipName:
    """What a keypoint file's name says: its clip name, and where the name has them, its video, its first and
    last frame (both included) and its frame rate."""

    clip: str
    video: str | None = None
    start: int | None = None
    end: int | None = None
    fps: float | None = None

    @property
    def frames(self) -> int | None:
        return None if self.start is None else self.end - self.start + 1


def clip_name(path: str | os.PathLike) -> ClipName:
    """The clip ``<video>.<start>-<end>`` (or any other name) of a keypoint file, without ``.json`` and a
    ``.<N>fps`` suffix."""
    name = Path(path).name
    stem = name[: -len(SUFFIX)] if name.lower().endswith(SUFFIX) else name
    fps = None
    said = _FPS_IN_FILE_NAME.match(stem)
    if said:
        stem, fps = said["clip"], float(said["fps"])
    frames = _FRAME_RANGE.match(stem)
    if not frames:
        return ClipName(stem, fps=fps)
    return ClipName(stem, frames["video"], int(frames["start"]), int(frames["end"]), fps)


def folder_fps(path: str | os.PathLike) -> float | None:
    """The frame rate the nearest folder on ``path`` is named with (``<N>fps``), or None."""
    for folder in Path(os.path.abspath(path)).parents:
        said = _FPS_IN_FOLDER_NAME.findall(folder.name)
        if said:
            return float(said[-1])
    return None


def frame_rate(path: str | os.PathLike, fps: float | None = None) -> float:
    """The frame rate of keypoint file ``path``: ``fps`` (``--fps``), else its name's, else its folders';
    an InputError when none says one, when ``fps`` and the name disagree, or when the rate is no video's."""
    named = clip_name(path).fps
    where = "its name"
    if named is None:
        named, where = folder_fps(path), "its folder's name"
    if fps is not None and named is not None and not math.isclose(fps, named, rel_tol=1e-6):
        raise InputError(path, f"--fps {fps:g} but {where} says {named:g} fps: which is it? (rename, or drop --fps)")
    rate = fps if fps is not None else named
    if rate is None:
        raise InputError(
            path,
            "no frame rate: the keypoint JSON does not record one; give --fps F (e.g. --fps 25; submit: --set fps=25), "
            "or name the file <clip>.25fps.json or a folder above it <name>_25fps",
        )
    if not (math.isfinite(rate) and 0 < rate <= 1000):
        raise InputError(path, f"frame rate {rate:g} fps is no video's (expected above 0 and at most 1000)")
    return float(rate)


def parse_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` (``--size 1280x720``) as ``(width, height)``, each 1 to 65535 pixels."""
    found = re.fullmatch(r"\s*([0-9]+)\s*[xX]\s*([0-9]+)\s*", text or "")
    if not found or not all(1 <= int(v) <= MAX_SIDE for v in found.groups()):
        raise InputError(None, f"--size must be WIDTHxHEIGHT in pixels (1 to {MAX_SIDE} each), got {quoted(text)}")
    return int(found[1]), int(found[2])


class _Twice(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique(pairs: list) -> dict:
    """A JSON object that names no key twice (``json`` would keep the last one silently)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _Twice(key)
            seen.add(key)
    return obj


def _document(path: Path) -> dict:
    """The file's ``joints`` object, each frame an object."""
    if not path.is_file():
        raise InputError(path, "keypoint file not found")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"), object_pairs_hook=_unique)
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from err
    except _Twice as err:
        raise InputError(path, f"not keypoint JSON: key {quoted(err.key)} appears twice in one object") from err
    except json.JSONDecodeError as err:
        raise InputError(path, f"not valid JSON ({err.msg} at line {err.lineno})") from err
    except RecursionError as err:
        raise InputError(path, "not keypoint JSON: nested too deeply") from err
    joints = doc.get("joints") if isinstance(doc, dict) else None
    if not isinstance(joints, dict):
        raise InputError(path, f"not keypoint JSON: expected {LAYOUT}")
    if not joints:
        raise InputError(path, "keypoint JSON with no frames (joints is empty)")
    return joints


def _frames(path: Path, joints: dict, name: ClipName) -> tuple[list[str], list[dict]]:
    """The frame keys in numeric order and their frames, checked: whole numbers, none twice or missing."""
    numbers = {}
    for key in joints:
        if not _FRAME_KEY.fullmatch(key):
            raise InputError(path, f"frame key {quoted(key)} is not a frame number (a whole number)")
        if int(key) in numbers:
            raise InputError(path, f"frames {quoted(numbers[int(key)])} and {quoted(key)} are the same frame")
        numbers[int(key)] = key
    order = sorted(numbers)
    if order[-1] - order[0] + 1 != len(order):
        missing = next(n for n, m in zip(range(order[0], order[-1] + 1), order, strict=False) if n != m)
        raise InputError(path, f"frame {missing} is missing (frames run {order[0]}-{order[-1]}, {len(order)} of them)")
    if name.frames is not None and name.frames != len(order):
        raise InputError(
            path,
            f"the name says frames {name.start}-{name.end} ({name.frames} frames) but the file has {len(order)}",
        )
    keys = [numbers[n] for n in order]
    for key in keys:
        frame = joints[key]
        if not isinstance(frame, dict):
            raise InputError(path, f"frame {key} is a {type(frame).__name__}, expected an object of parts ({LAYOUT})")
        absent = [part for part in PARTS if part not in frame]
        if absent:
            raise InputError(path, f"frame {key} has no {absent[0]} (a part not found is an empty list [])")
    return keys, [joints[k] for k in keys]


def _points(path: Path, key: str, part: str, value, counts: tuple[int, ...], widths: tuple[int, ...]) -> None:
    """Say what is wrong with one frame's part (called once the fast read of the whole part failed)."""
    where = f"frame {key}, {part}"
    try:
        points = np.array(value)
    except (ValueError, TypeError, OverflowError):
        points = None
    if points is None or points.ndim != 2 or (points.size and points.dtype.kind not in "fiu"):
        raise InputError(path, f"{where}: expected a list of points, each a list of {widths[0]} numbers")
    if points.shape[0] not in counts:
        need = " or ".join(map(str, counts))
        raise InputError(path, f"{where}: {points.shape[0]} points, expected {need} (or [] where none was found)")
    if points.shape[1] not in widths:
        need = "4 (x, y, z, visibility)" if widths == (4,) else "3 or 4 (x, y, z[, 0])"
        raise InputError(path, f"{where}: points of {points.shape[1]} numbers, expected {need}")


def _part(path: Path, keys: list[str], frames: list[dict], part: str) -> tuple[list[int], np.ndarray | None]:
    """The frames where ``part`` was found and its points there, ``(found, N, 3 or 4)`` float64."""
    _, counts, widths = PARTS[part]
    found, lists = [], []
    for i, frame in enumerate(frames):
        value = frame[part]
        if not isinstance(value, list):
            raise InputError(path, f"frame {keys[i]}, {part}: a {type(value).__name__}, expected a list of points")
        if value:
            found.append(i)
            lists.append(value)
    if not lists:
        return found, None
    if len(counts) > 1:  # the face: 468 or 478 points, the same in every frame (its first found says which)
        _points(path, keys[found[0]], part, lists[0], counts, widths)
        counts = (len(lists[0]),)
    try:
        points = np.array(lists)  # one conversion for the whole part: the fast path of a good file
    except (ValueError, TypeError, OverflowError):
        points = None
    good = points is not None and points.ndim == 3 and points.dtype.kind in "fiu"
    if not (good and points.shape[1] in counts and points.shape[2] in widths):
        for i, value in zip(found, lists, strict=True):
            _points(path, keys[i], part, value, counts, widths)
            if len(value[0]) != len(lists[0][0]):
                raise InputError(
                    path, f"frame {keys[i]}, {part}: points of {len(value[0])} numbers, others have {len(lists[0][0])}"
                )
        # each frame reads alone, not all together: integers of more than 64 bits in some frames
        raise InputError(path, f"frames {keys[found[0]]}-{keys[found[-1]]}, {part}: numbers no float holds exactly")
    points = points.astype(np.float64)
    bad = ~np.isfinite(points)
    if bad.any():
        frame, point, _ = np.argwhere(bad)[0]
        raise InputError(path, f"frame {keys[found[frame]]}, {part}, point {point}: a value that is no finite number")
    return found, points


def read_keypoints(path: str | os.PathLike, fps: float | None = None, size: tuple[int, int] | None = None) -> Pose:
    """One keypoint JSON file as a Holistic Pose (see the module's doc for what is checked and decided)."""
    path = Path(path)
    rate = frame_rate(path, fps)
    name = clip_name(path)
    keys, frames = _frames(path, _document(path), name)
    parts = {part: _part(path, keys, frames, part) for part in PARTS}
    face = parts["face_landmarks"][1]
    face_n = face.shape[1] if face is not None else FACE_POINTS[0]
    n_points = BODY_POINTS + face_n + 2 * HAND_POINTS + BODY_POINTS
    data = np.zeros((len(frames), n_points, 3), np.float32)  # (T, points, xyz)
    conf = np.zeros((len(frames), n_points), np.float32)
    extent = np.zeros((len(frames), n_points), bool)  # points whose place counts towards the frame size
    start = 0
    for part, (found, points) in parts.items():
        n = face_n if part == "face_landmarks" else PARTS[part][1][0]
        if points is not None:
            rows = np.asarray(found)
            data[rows, start : start + n] = points[..., :3]
            if part == "pose_landmarks":
                visibility = points[..., 3]
                off = (visibility < 0) | (visibility > 1)
                if off.any():
                    frame, point = np.argwhere(off)[0]
                    value = visibility[frame, point]
                    raise InputError(
                        path,
                        f"frame {keys[found[frame]]}, {part}, point {point}: visibility "
                        f"{value:g} is not between 0 and 1",
                    )
                conf[rows, start : start + n] = visibility
                extent[rows, start : start + n] = visibility >= VISIBLE
            else:
                conf[rows, start : start + n] = 1.0
                extent[rows, start : start + n] = True
        start += n
    width, height = size or _extent(data, extent)
    far = ~(np.abs(data) <= FAR * max(width, height, 1000))  # a float32 overflow is inf: far too
    if far.any():
        frame, point, _ = np.argwhere(far)[0]
        where = f"frame {keys[frame]}, {_part_of(point, face_n)}, point {point - _start_of(point, face_n)}"
        raise InputError(path, f"{where}: a coordinate {FAR} frame sizes or more outside the frame")
    # the header, the Pose and the warning where no signer was found, as extraction makes them
    return build_pose(data, conf, rate, width, height, HolisticConfig(refine_face_landmarks=face_n != 468), str(path))


def _bounds(face_n: int) -> list[tuple[str, int]]:
    """Each part of the file with the first point after it in our header."""
    ends = np.cumsum([BODY_POINTS, face_n, HAND_POINTS, HAND_POINTS])
    return list(zip(PARTS, ends.tolist(), strict=True))


def _part_of(point: int, face_n: int) -> str:
    return next(part for part, end in _bounds(face_n) if point < end)


def _start_of(point: int, face_n: int) -> int:
    return max([0] + [end for _, end in _bounds(face_n) if end <= point])


def _extent(data: np.ndarray, counted: np.ndarray) -> tuple[int, int]:
    """The frame size the points span (from 0): their largest x and y rounded up, 1 to 65535 pixels."""
    xy = data[:, :, :2][counted]  # (found points, 2)
    if not len(xy):
        return 1, 1
    top = np.ceil(xy.max(0))
    return tuple(int(min(max(v, 1), MAX_SIDE)) for v in top)
