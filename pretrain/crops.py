"""Face and hand crops located from the MediaPipe Holistic landmarks, cut out of video frames in batches.

:func:`part_boxes` gives, per frame, a square box around the face, the signer's left hand and the
signer's right hand (in that order, :data:`PARTS`) in the video's pixel coordinates, with a found
flag (no landmarks: no box) and a mirror flag (the left hand may be mirrored so both hands look
like right hands to a shared encoder). :func:`box_crops` cuts any number of boxes per frame out of
a batch of frames with one ``grid_sample`` call (CPU or GPU, no per-pixel Python), and is generic:
the MAE signer crop can use it with one box per frame. :func:`part_crops` combines the two and
blanks the parts that were not found; :func:`clip_crops` does it for a clip's video, and
:class:`PartCropDataset` serves the crops of many clips for training.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from pose_format import Pose

from pose.errors import InputError
from pose.features import L_SHOULDER, R_SHOULDER, component
from pose.io import read_pose
from pose.video import VideoStream, prefetch

from .data import PretrainData, list_clips

PARTS = ("face", "left", "right")  # the signer's left and right hand (MediaPipe's naming)
FACE, LEFT, RIGHT = range(3)
L_WRIST, R_WRIST = 15, 16  # body landmarks: the anchor MediaPipe Holistic derives each hand from


@dataclass
class CropConfig:
    """Where the part boxes go and what the crops look like."""

    size: int = 224  # output side of every crop (pixels)
    face_padding: float = 0.15  # added on each side, as a share of the face landmarks' extent
    hand_padding: float = 0.25  # added on each side, as a share of the hand landmarks' extent
    hand_min_side: float = 0.35  # smallest hand box side, x shoulder width: a fist or an edge-on hand is not blown up
    mirror_left: bool = True  # flip the left hand crop so both hands look alike (one shared encoder)
    fix_handedness: bool = True  # give each detected hand to the body wrist it is nearest (MediaPipe swaps rarely)

    def __post_init__(self):
        if self.size < 8:
            raise InputError(None, f"crop size must be >= 8 pixels, got {self.size}")
        if min(self.face_padding, self.hand_padding, self.hand_min_side) < 0:
            raise InputError(None, f"crop paddings and hand_min_side must be >= 0: {self}")


@dataclass
class PartBoxes:
    """Per-frame square boxes of the face, left hand and right hand."""

    boxes: np.ndarray  # (T, 3, 4) float32: x0, y0, x1, y1 in video pixels (0 where not found)
    found: np.ndarray  # (T, 3) bool: the part's landmarks exist in this frame
    mirror: np.ndarray  # (T, 3) bool: flip this crop horizontally

    def __len__(self) -> int:
        return len(self.found)

    def __getitem__(self, index) -> PartBoxes:
        return PartBoxes(self.boxes[index], self.found[index], self.mirror[index])


def square_boxes(points: np.ndarray, found: np.ndarray, padding: float, min_side: np.ndarray | float = 0.0):
    """Square boxes around the found points of each frame: ``(T, N, 2)``, ``(T, N)`` -> ``(T, 4)``, ``(T,)``.

    A frame needs two found points to have a box (one point has no extent)."""
    big = np.float32(1e9)
    lo = np.where(found[..., None], points, big).min(1)  # (T, 2)
    hi = np.where(found[..., None], points, -big).max(1)
    ok = found.sum(1) >= 2
    centre = np.where(ok[:, None], (lo + hi) / 2, 0)
    side = np.where(ok, (hi - lo).max(-1), 0) * (1 + 2 * padding)
    half = np.maximum(side, min_side) / 2
    boxes = np.concatenate([centre - half[:, None], centre + half[:, None]], -1)  # (T, 4)
    return np.where(ok[:, None], boxes, 0).astype(np.float32), ok


def _fix_handedness(left, left_found, right, right_found, body, body_found):
    """Swap hand detections that sit nearer the other body wrist (per frame; hands ``(T, 21, 2)``)."""
    wrists_ok = body_found[:, L_WRIST] & body_found[:, R_WRIST]
    lw, rw = body[:, L_WRIST], body[:, R_WRIST]  # (T, 2)
    has_l, has_r = left_found.any(1), right_found.any(1)

    def dist(hand, wrist):  # hand landmark 0 is the wrist
        return np.linalg.norm(hand[:, 0] - wrist, axis=-1)

    both = has_l & has_r
    swap_both = both & (dist(left, rw) + dist(right, lw) < dist(left, lw) + dist(right, rw))
    swap_l_only = has_l & ~has_r & (dist(left, rw) < dist(left, lw))  # a lone "left" hand at the right wrist
    swap_r_only = has_r & ~has_l & (dist(right, lw) < dist(right, rw))
    swap = wrists_ok & (swap_both | swap_l_only | swap_r_only)  # (T,)
    s3, s2 = swap[:, None, None], swap[:, None]
    return (
        np.where(s3, right, left),
        np.where(s2, right_found, left_found),
        np.where(s3, left, right),
        np.where(s2, left_found, right_found),
    )


def part_boxes(pose: Pose, config: CropConfig, frame_size: tuple[int, int] | None = None) -> PartBoxes:
    """Face, left hand and right hand boxes for every frame of ``pose`` (its first person).

    ``frame_size`` (width, height) of the video, when it differs from the size the pose was
    extracted at (the pose header's dimensions), rescales the boxes onto the video.
    """
    body, body_found = component(pose, "POSE_LANDMARKS")
    face, face_found = component(pose, "FACE_LANDMARKS")
    left, left_found = component(pose, "LEFT_HAND_LANDMARKS")
    right, right_found = component(pose, "RIGHT_HAND_LANDMARKS")
    body, face, left, right = body[..., :2], face[..., :2], left[..., :2], right[..., :2]
    if config.fix_handedness:
        left, left_found, right, right_found = _fix_handedness(left, left_found, right, right_found, body, body_found)
    shoulders_ok = body_found[:, L_SHOULDER] & body_found[:, R_SHOULDER]
    shoulder = np.where(shoulders_ok, np.linalg.norm(body[:, L_SHOULDER] - body[:, R_SHOULDER], axis=-1), 0)
    hand_min = config.hand_min_side * shoulder  # (T,)
    face_box, face_ok = square_boxes(face, face_found, config.face_padding)
    left_box, left_ok = square_boxes(left, left_found, config.hand_padding, hand_min)
    right_box, right_ok = square_boxes(right, right_found, config.hand_padding, hand_min)
    boxes = np.stack([face_box, left_box, right_box], 1)  # (T, 3, 4)
    found = np.stack([face_ok, left_ok, right_ok], 1)  # (T, 3)
    if frame_size is not None:
        dims = pose.header.dimensions
        if dims.width and dims.height and (dims.width, dims.height) != tuple(frame_size):
            sx, sy = frame_size[0] / dims.width, frame_size[1] / dims.height
            boxes = boxes * np.array([sx, sy, sx, sy], np.float32)
    mirror = np.zeros_like(found)
    mirror[:, LEFT] = config.mirror_left
    return PartBoxes(boxes.astype(np.float32), found, mirror)


def box_crops(
    frames: np.ndarray | torch.Tensor,
    boxes: np.ndarray | torch.Tensor,
    size: int,
    mirror: np.ndarray | torch.Tensor | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Cut ``K`` boxes out of each of ``B`` frames, resized to ``size`` x ``size`` (bilinear).

    frames ``(B, H, W, 3)`` uint8 RGB; boxes ``(B, K, 4)`` x0, y0, x1, y1 in pixels (any aspect,
    may leave the frame: outside is black); mirror ``(B, K)`` bool flips crops horizontally.
    Returns ``(B, K, 3, size, size)`` uint8 on ``device`` (default: the frames' device). All boxes
    of a frame are sampled in one ``grid_sample`` call, so frames are never copied per box.
    """
    frames = torch.as_tensor(frames)
    device = torch.device(device) if device is not None else frames.device
    b, h, w, _ = frames.shape
    boxes = torch.as_tensor(boxes, dtype=torch.float32, device=device).reshape(b, -1, 4)  # (B, K, 4)
    k = boxes.shape[1]
    if b == 0 or k == 0:
        return torch.zeros(b, k, 3, size, size, dtype=torch.uint8, device=device)
    x0, y0, x1, y1 = boxes.unbind(-1)  # (B, K)
    if mirror is not None:  # sampling right to left mirrors the crop for free
        flip = torch.as_tensor(mirror, dtype=torch.bool, device=device).reshape(b, k)
        x0, x1 = torch.where(flip, x1, x0), torch.where(flip, x0, x1)
    t = (torch.arange(size, dtype=torch.float32, device=device) + 0.5) / size  # output pixel centres in (0, 1)
    xs = x0[..., None] + (x1 - x0)[..., None] * t  # (B, K, S) source x in pixels
    ys = y0[..., None] + (y1 - y0)[..., None] * t
    # grid_sample (align_corners=False) maps -1 / +1 to the outer edges of the first / last pixel
    gx = (2 * xs / w - 1)[:, :, None, :].expand(b, k, size, size)
    gy = (2 * ys / h - 1)[:, :, :, None].expand(b, k, size, size)
    grid = torch.stack([gx, gy], -1).reshape(b, k * size, size, 2)  # the K crops stacked along the height
    image = frames.to(device).permute(0, 3, 1, 2).float()  # (B, 3, H, W)
    out = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)  # (B, 3, K*S, S)
    out = out.reshape(b, 3, k, size, size).transpose(1, 2)  # (B, K, 3, S, S)
    return out.round_().clamp_(0, 255).to(torch.uint8)


def part_crops(
    frames: np.ndarray | torch.Tensor, boxes: PartBoxes, size: int, device: str | torch.device | None = None
) -> torch.Tensor:
    """Face, left hand and right hand crops ``(B, 3, 3, size, size)`` uint8 of frames ``(B, H, W, 3)``;
    a part not found in a frame is an all-black crop."""
    crops = box_crops(frames, boxes.boxes, size, boxes.mirror, device)
    found = torch.as_tensor(boxes.found, device=crops.device)
    return crops * found[:, :, None, None, None]


def video_frames(video, fps: float) -> tuple[Iterator[np.ndarray], tuple[int, int]]:
    """RGB frames ``(H, W, 3)`` of a video path (resampled to the pose's fps), or of an array ``(T, H, W, 3)``."""
    if isinstance(video, str | os.PathLike):
        stream = VideoStream(video, target_fps=fps)
        return prefetch(stream.frames()), (stream.width, stream.height)  # decoding overlaps the model
    frames = np.asarray(video) if not isinstance(video, torch.Tensor) else video
    return iter(frames), (int(frames.shape[2]), int(frames.shape[1]))


def clip_crops(
    pose: Pose, video, config: CropConfig, frames: list[int] | None = None, chunk: int = 64
) -> tuple[torch.Tensor, np.ndarray]:
    """Part crops of the given frames of a clip (all if None): ``(F, 3, 3, S, S)`` uint8 and found ``(F, 3)``.

    The video is decoded once, up to the last wanted frame; frames past its end count as not found."""
    n = len(pose.body.data)
    wanted = list(range(n)) if frames is None else list(frames)
    stream, size = video_frames(video, float(pose.body.fps))
    boxes = part_boxes(pose, config, size)
    index = {f: i for i, f in enumerate(wanted)}
    out = torch.zeros(len(wanted), 3, 3, config.size, config.size, dtype=torch.uint8)
    found = np.zeros((len(wanted), 3), bool)
    batch: list[tuple[int, np.ndarray]] = []

    def flush():
        rows = [index[f] for f, _ in batch]
        picked = boxes[[f for f, _ in batch]]
        out[rows] = part_crops(np.stack([img for _, img in batch]), picked, config.size)
        found[rows] = picked.found
        batch.clear()

    last = max(wanted, default=-1)
    for f, img in enumerate(stream):
        if f > last:
            break
        if f in index:
            batch.append((f, img))
            if len(batch) == chunk:
                flush()
    if batch:
        flush()
    return out, found


@dataclass
class SampleConfig:
    """How :class:`PartCropDataset` draws frames from clips."""

    frames_per_sample: int = 8  # frames of one clip per sample (one video decode gives up to 3 x this many crops)
    samples_per_clip: int = 4  # samples per clip and epoch, each on a different evenly spaced set of frames
    cache_clips: int = 0  # keep every frame's crops of this many clips in memory (small data; 0: off)


class PartCropDataset(torch.utils.data.Dataset):
    """Samples of part crops: sample ``i`` is clip ``i % C`` at ``frames_per_sample`` evenly spaced
    frames, shifted by ``i // C`` so the ``samples_per_clip`` samples of a clip see different frames.
    Each sample holds the crops of the parts found in those frames and their part ids.

    One sample decodes its clip once for many crops (decoding dominates the cost of a crop); with
    ``cache_clips`` every frame's crops of recently used clips stay in memory instead.
    """

    def __init__(self, data: PretrainData, crops: CropConfig, sampling: SampleConfig):
        self.clips = list_clips(data, need_video=True)
        self.crop_config = crops
        self.config = sampling
        self.cache: OrderedDict[int, tuple[torch.Tensor, np.ndarray]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.clips) * self.config.samples_per_clip

    def frame_indices(self, index: int, num_frames: int) -> list[int]:
        k = min(self.config.frames_per_sample, num_frames)
        phase = (index // len(self.clips) + 0.5) / self.config.samples_per_clip
        return sorted({min(num_frames - 1, int((j + phase) * num_frames / k)) for j in range(k)})

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        c = index % len(self.clips)
        clip = self.clips[c]
        if self.config.cache_clips:
            if c not in self.cache:
                self.cache[c] = clip_crops(read_pose(clip.pose), clip.video, self.crop_config)
                if len(self.cache) > self.config.cache_clips:
                    self.cache.popitem(last=False)
            self.cache.move_to_end(c)
            crops, found = self.cache[c]
            rows = self.frame_indices(index, len(crops))
            crops, found = crops[rows], found[rows]
        else:
            pose = read_pose(clip.pose)
            crops, found = clip_crops(
                pose, clip.video, self.crop_config, self.frame_indices(index, len(pose.body.data))
            )
        mask = torch.as_tensor(found)  # (F, 3): train only on parts that were found
        parts = torch.arange(3).expand_as(mask)[mask]
        return {"crops": crops[mask], "parts": parts}  # (n, 3, S, S) uint8, (n,) int64


def collate_crops(samples: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Samples of :class:`PartCropDataset` -> one batch: crops ``(N, 3, S, S)`` uint8, parts ``(N,)``."""
    return {k: torch.cat([s[k] for s in samples]) for k in ("crops", "parts")}
