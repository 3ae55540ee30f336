"""Sentence-level pose features from a folder of ``.pose`` files (pre-cut clips or full videos).

For each sentence, ``<SENTENCE_NAME>.pose`` (a pre-cut clip, anywhere below the folder, or at that relative
path: a JSALT sentence ``video/clip`` finds ``<video>/<clip>.pose``) is used when present; otherwise
``<VIDEO_NAME>.pose`` (the full video, extracted once) is cut by the realigned times at the
frame level — no video is re-encoded. Full videos are read once and shared by their sentences.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from pose.errors import InputError, quoted
from pose.features import frame_span, pose_view_208, sign2vec_view_255
from pose.io import read_pose

from .how2sign import Sentence, by_video

# the pose views a stream can be computed as, by the stream's per-frame size
VIEWS = {208: pose_view_208, 255: sign2vec_view_255}


def view_for(dim: int, stream: str = "pose"):
    """The pose view giving ``dim`` values per frame; an InputError if no pose view has that size."""
    if dim not in VIEWS:
        raise InputError(
            None,
            f"stream {quoted(stream)} has {dim} values per frame: no pose view has that size "
            f"(they have {', '.join(map(str, VIEWS))}); it needs its encoder's features",
        )
    return VIEWS[dim]


def _index(folder: Path) -> dict[str, Path]:
    """Every .pose file under ``folder`` by name, and by its path relative to ``folder`` without the suffix
    (``video/clip``, the name a JSALT annotation sentence has: ``import-keypoints`` writes
    ``<video>/<clip>.pose``), also through linked folders (one folder that links several datasets' pose
    folders trains on all of them)."""
    by_name, by_path = {}, {}
    for root, _, names in sorted(os.walk(folder, followlinks=True)):
        for name in names:
            if name.endswith(".pose"):
                path = Path(root, name)
                by_name[name[: -len(".pose")]] = path
                if root != str(folder):  # at the top, the path is the name
                    by_path[path.relative_to(folder).as_posix()[: -len(".pose")]] = path
    return by_name | by_path  # a name has no "/", a nested path has one: neither hides the other


def sentence_features(
    sentences: Iterable[Sentence], poses_dir: str | os.PathLike, dim: int = 208, fps_seen: list | None = None
) -> Iterator[tuple[Sentence, np.ndarray]]:
    """Yield ``(sentence, features (T, D) float32)`` for every sentence, in video order; the frame
    rate of every .pose file read is appended to ``fps_seen`` when given.

    Raises InputError naming the sentence when neither its clip nor its video has a .pose file,
    or when its time span holds no frame of the video's pose.
    """
    to_features = view_for(dim)
    folder = Path(poses_dir)
    if not folder.is_dir():
        raise InputError(folder, "pose folder not found")
    files = _index(folder)
    for video_sentences in by_video(sentences).values():
        video_features = None  # read lazily, once per video
        for s in video_sentences:
            if s.sentence_name in files:
                pose = read_pose(files[s.sentence_name])
                if fps_seen is not None:
                    fps_seen.append(float(pose.body.fps))
                features, _ = to_features(pose)
                yield s, features
                continue
            if s.video_name not in files:
                raise InputError(
                    folder,
                    f"no pose for sentence {s.sentence_name}: neither {s.sentence_name}.pose nor {s.video_name}.pose",
                )
            if video_features is None:
                pose = read_pose(files[s.video_name])
                fps = float(pose.body.fps)
                if fps_seen is not None:
                    fps_seen.append(fps)
                video_features, _ = to_features(pose)
            first, last = frame_span(fps, s.start, s.end, len(video_features))
            if last <= first:
                raise InputError(
                    files[s.video_name], f"sentence {s.sentence_name} ({s.start}-{s.end} s) has no frames in this pose"
                )
            yield s, video_features[first:last]
