"""Where pretraining and feature extraction read clips: .pose files, and videos for the image objectives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pose.errors import InputError
from pose.io import check_pose_file

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm")


@dataclass
class PretrainData:
    """The clips to learn from (or extract features of)."""

    poses: str = ""  # folder of .pose files (clips or whole videos), searched recursively
    videos: str | None = None  # folder of the matching videos (same relative path and stem): DINO, MAE
    limit: int = 0  # use only the first N clips in name order (0 = all)


@dataclass(frozen=True)
class Clip:
    name: str  # the .pose file's stem (a SENTENCE_NAME or VIDEO_NAME)
    pose: Path
    video: Path | None


def list_clips(data: PretrainData, need_video: bool = False) -> list[Clip]:
    """Every clip of ``data`` in name order; with ``need_video``, each must have its video."""
    folder = Path(data.poses)
    if not data.poses or not folder.is_dir():
        raise InputError(folder if data.poses else None, "pose folder not found (set data.poses)")
    videos = Path(data.videos) if data.videos else None
    if need_video and (videos is None or not videos.is_dir()):
        raise InputError(videos, "this objective reads video frames: set data.videos to the clips' video folder")
    clips = []
    for pose in sorted(folder.rglob("*.pose")):
        video = None
        if videos is not None:
            rel = pose.relative_to(folder).with_suffix("")
            video = next((videos / f"{rel}{s}" for s in VIDEO_SUFFIXES if (videos / f"{rel}{s}").is_file()), None)
            if video is None and need_video:
                raise InputError(pose, f"no video for this pose under {videos}")
        clips.append(Clip(pose.stem, pose, video))
    if not clips:
        raise InputError(folder, "no .pose files found")
    check_pose_file(clips[0].pose)  # another tool's folder is refused before a run folder or store is made
    return clips[: data.limit or None]
