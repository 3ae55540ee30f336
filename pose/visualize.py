"""Draw a .pose over its video (or a blank canvas) to an .mp4 or a contact-sheet image.

Drawing uses pose-format's own ``PoseVisualizer``, so the skeleton looks as in pose-format's
tools; the video is decoded by our streaming reader and resampled to the pose's fps, so a pose
extracted at 25 fps lines up with a 30 fps source by time, not by frame index.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pose_format import Pose
from pose_format.pose_visualizer import PoseVisualizer

from .errors import InputError
from .io import atomic_output, output_file, read_pose
from .video import VideoStream

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _backgrounds(pose: Pose, video: str | os.PathLike | None) -> Iterator[np.ndarray]:
    """BGR frames the size of the pose's header: the video resampled to the pose fps, then white
    (so every pose frame is drawn even where the video ends first), or white throughout. Warns
    when the video and the pose differ in length: they may not belong together."""
    import cv2

    w, h = pose.header.dimensions.width, pose.header.dimensions.height
    total = len(pose.body.data)
    blank = np.full((h, w, 3), 255, np.uint8)
    if video is not None:
        stream, seen = iter(VideoStream(video, target_fps=float(pose.body.fps)).frames()), 0
        for rgb in stream:
            seen += 1
            if seen == total and next(stream, None) is not None:  # checked before the last frame is drawn
                _length_warning(video, pose, f"more than {total}")
            if rgb.shape[1] != w or rgb.shape[0] != h:
                rgb = cv2.resize(rgb, (w, h))
            yield cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
            if seen == total:
                break
        if seen < total:
            _length_warning(video, pose, str(seen), " Frames past the video's end are drawn on white.")
    while True:
        yield blank.copy()


def _length_warning(video, pose: Pose, length: str, more: str = "") -> None:
    total, fps = len(pose.body.data), float(pose.body.fps)
    message = f"{video}: {length} frames at the pose's {fps:g} fps, but the pose has {total}; is it this video's pose?"
    warnings.warn(message + more, stacklevel=3)


def drawable(pose: Pose) -> Pose:
    """The image-space parts, with the face reduced to its contours (eyes, brows, lips, outline):
    the full 468-point tessellation would paint the face solid, and world landmarks (metres) do
    not belong on the image. Any skeleton is drawn (OpenPose, MMPose, AlphaPose): looking at a file
    is how one finds out what it holds."""
    from .topology import facemesh_contours_points

    names = [c.name for c in pose.header.components if c.name != "POSE_WORLD_LANDMARKS"]
    face = next((c.points for c in pose.header.components if c.name == "FACE_LANDMARKS"), [])
    contours = facemesh_contours_points()
    # another skeleton's face (or a Holistic face reduced some other way) is drawn as it is
    points = {"FACE_LANDMARKS": contours} if set(contours) <= set(face) else None
    return pose.get_components(names, points)


def overlay_frames(pose: Pose, video: str | os.PathLike | None = None) -> Iterator[np.ndarray]:
    """BGR frames with the skeleton drawn over the video (or a white background)."""
    return PoseVisualizer(drawable(pose)).draw_on_video(_backgrounds(pose, video))


def _contact_sheet(frames: list[np.ndarray], labels: list[str], max_width: int = 1920) -> np.ndarray:
    import math

    import cv2

    h, w = frames[0].shape[:2]
    columns = math.ceil(math.sqrt(len(frames)))
    scale = min(1.0, max_width / (w * columns))
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    tiles = [_label(cv2.resize(f, size), text) for f, text in zip(frames, labels, strict=True)]
    while len(tiles) % columns:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    """``text`` in the tile's top-left corner, dark on a white box so it reads over any video."""
    import cv2

    scale = max(0.4, tile.shape[1] / 640)
    thickness = max(1, round(scale))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    pad = max(2, th // 3)
    cv2.rectangle(tile, (0, 0), (tw + 2 * pad, th + base + 2 * pad), (255, 255, 255), -1)
    cv2.putText(tile, text, (pad, th + pad), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    return tile


def _write_video(frames: Iterator[np.ndarray], path: Path, fps: float) -> int:
    import av

    n = 0
    with av.open(str(path), "w", format="mp4") as container:
        stream = None
        for bgr in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=round(fps) or 25)
                stream.width, stream.height = bgr.shape[1] // 2 * 2, bgr.shape[0] // 2 * 2
                stream.pix_fmt = "yuv420p"
            frame = av.VideoFrame.from_ndarray(bgr[: stream.height, : stream.width], format="bgr24")
            container.mux(stream.encode(frame))
            n += 1
        if stream is not None:
            container.mux(stream.encode())
    return n


def draw_pose(
    pose_path: str | os.PathLike,
    out_path: str | os.PathLike,
    video: str | os.PathLike | None = None,
    frames: int = 6,
    frame_index: int | None = None,
) -> Path:
    """Render ``pose_path`` to ``out_path``: ``.mp4`` (every frame) or an image (a contact sheet of
    ``frames`` evenly spaced frames, or the single ``frame_index``). Written atomically."""
    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix not in (".mp4", *IMAGE_SUFFIXES):
        raise InputError(out, "output must end in .mp4, .png or .jpg")
    if frames < 1:
        raise InputError(None, f"a contact sheet needs at least 1 frame, got frames={frames}")
    output_file(out)
    pose = read_pose(pose_path, holistic=False)  # drawn whatever its skeleton
    total = len(pose.body.data)
    if total == 0:
        raise InputError(pose_path, "pose has no frames to draw")
    with atomic_output(out) as tmp:
        if suffix == ".mp4":
            _write_video(overlay_frames(pose, video), tmp, float(pose.body.fps))
        else:
            tmp.write_bytes(_sheet_png(pose, video, suffix, frames, frame_index))
    return out


def _sheet_png(pose: Pose, video, suffix: str, frames: int, frame_index: int | None) -> bytes:
    """Encoded image of one frame or a contact sheet of ``frames`` evenly spaced frames."""
    import cv2

    total = len(pose.body.data)
    if frame_index is not None:
        if not 0 <= frame_index < total:
            raise InputError(None, f"frame {frame_index} is out of range (the pose has {total} frames)")
        wanted = {frame_index}
    else:
        wanted = set(np.linspace(0, total - 1, min(frames, total)).round().astype(int).tolist())
    fps = float(pose.body.fps)
    picked, labels = [], []
    for i, image in enumerate(overlay_frames(pose, video)):
        if i in wanted:
            picked.append(image)
            labels.append(f"frame {i}  {i / fps:.2f} s" if fps > 0 else f"frame {i}")
        if i >= max(wanted):
            break
    ok, encoded = cv2.imencode(suffix, picked[0] if len(picked) == 1 else _contact_sheet(picked, labels))
    if not ok:
        raise InputError(None, f"could not encode a {suffix} image")
    return encoded.tobytes()
