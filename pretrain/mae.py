"""MAE on the signer crop: transformers' ViT-MAE pretrained on random video frames cropped around the signer.

Training samples are a few random frames of a clip (its video is decoded once for all of them),
each cropped to the clip's signer box (:mod:`pretrain.signer_box`) with light box and colour jitter,
resized to the model's input (224 by default) and normalized with ImageNet statistics. The loss
is MAE's: reconstruct the per-patch normalized pixels of the 75 % masked patches.

Per-frame features (``features``) run the encoder with masking off on every frame's signer crop
and take the CLS token or the mean of the patch tokens: 768 values a frame for ViT-B/16.

Every random choice (frames, jitter, the masking noise) comes from numpy's global generator,
whose state the trainer checkpoints, and the model has no dropout: a resumed run draws exactly what
an uninterrupted one would, even if something between save and resume consumes torch's generator.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import torch
from pose_format import Pose
from torch import nn

from pose.errors import MESSAGE, InputError, excerpt, quoted
from pose.io import read_pose

from .data import Clip, PretrainData, list_clips
from .objective import register
from .runtime import check_weight_folder
from .signer_box import crop_resize, signer_box

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Architecture presets; decoders follow the MAE paper (512 wide, 8 blocks for ViT-B).
SIZES: dict[str, dict[str, int]] = {
    "tiny": dict(
        image_size=64,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        decoder_hidden_size=32,
        decoder_num_hidden_layers=1,
        decoder_num_attention_heads=2,
        decoder_intermediate_size=64,
    ),
    "small": dict(  # ViT-S/16
        image_size=224,
        patch_size=16,
        hidden_size=384,
        num_hidden_layers=12,
        num_attention_heads=6,
        intermediate_size=1536,
        decoder_hidden_size=256,
        decoder_num_hidden_layers=4,
        decoder_num_attention_heads=8,
        decoder_intermediate_size=1024,
    ),
    "base": dict(  # ViT-B/16
        image_size=224,
        patch_size=16,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        decoder_hidden_size=512,
        decoder_num_hidden_layers=8,
        decoder_num_attention_heads=16,
        decoder_intermediate_size=2048,
    ),
}
POOLS = ("cls", "mean")


@dataclass
class MAEConfig:
    """The MAE objective's model settings (the ``model`` section of a pretraining config)."""

    size: str = "base"  # architecture preset: tiny (tests), small (ViT-S/16) or base (ViT-B/16, 768 per frame)
    init: str | None = None  # ViT-MAE checkpoint to start from (HF id or local folder; its architecture wins)
    image_size: int | None = None  # signer crop side in pixels (None: the preset's, 224 for small and base)
    patch_size: int | None = None  # None: the preset's
    mask_ratio: float = 0.75  # share of patches hidden from the encoder in training
    norm_pix_loss: bool = True  # reconstruct per-patch normalized pixels (MAE's better setting)
    pool: str = "cls"  # per-frame feature: cls token or mean of the patch tokens
    frames_per_clip: int = 4  # frames drawn from a clip per sample (one decode serves them all)
    margin: float = 0.05  # added around the signer box, as a share of its side, on each side
    augment: bool = True  # box and colour jitter on training crops
    box_jitter: float = 0.05  # random scale and shift of the box, as a share of its side
    color_jitter: float = 0.2  # brightness and contrast factors drawn in [1 - j, 1 + j]
    feature_batch: int = 64  # frames per encoder call in features()
    video_backend: str = "auto"  # pose.video backend: auto, pyav, decord or opencv

    def __post_init__(self):
        if self.size not in SIZES:
            raise InputError(None, f"mae size {quoted(self.size)} is unknown: choose from {', '.join(SIZES)}")
        if self.pool not in POOLS:
            raise InputError(None, f"mae pool {quoted(self.pool)} is unknown: choose from {', '.join(POOLS)}")
        if not 0 <= self.mask_ratio < 1:
            raise InputError(None, f"mae mask_ratio must be in [0, 1), got {self.mask_ratio}")
        image = self.image_size or SIZES[self.size]["image_size"]
        patch = self.patch_size or SIZES[self.size]["patch_size"]
        if image < 1 or patch < 1 or image % patch:
            raise InputError(None, f"mae image_size {image} must be a positive multiple of patch_size {patch}")
        if self.frames_per_clip < 1 or self.feature_batch < 1:
            raise InputError(None, "mae frames_per_clip and feature_batch must be >= 1")
        if self.margin < 0 or not 0 <= self.box_jitter < 0.5 or not 0 <= self.color_jitter < 1:
            raise InputError(None, "mae margin must be >= 0, box_jitter in [0, 0.5), color_jitter in [0, 1)")


def build_model(config: MAEConfig):
    """A ``ViTMAEForPreTraining``: from ``config.init`` when set, else randomly initialized from the preset."""
    from transformers import ViTMAEConfig, ViTMAEForPreTraining

    overrides = dict(mask_ratio=config.mask_ratio, norm_pix_loss=config.norm_pix_loss)
    if config.init:
        if Path(config.init).is_dir():  # a damaged weight file is one line naming it
            check_weight_folder(config.init)
        try:
            model = ViTMAEForPreTraining.from_pretrained(config.init, **overrides)
        except OSError as err:
            raise InputError(
                config.init, f"cannot load a ViT-MAE checkpoint from here ({excerpt(err, MESSAGE)})"
            ) from err
        for name in ("image_size", "patch_size"):
            want, have = getattr(config, name), getattr(model.config, name)
            if want is not None and want != have:
                raise InputError(config.init, f"checkpoint has {name} {have}, the config asks for {want}")
        return model
    arch = dict(SIZES[config.size])
    arch["image_size"] = config.image_size or arch["image_size"]
    arch["patch_size"] = config.patch_size or arch["patch_size"]
    # No dropout (MAE uses none), which also keeps training free of torch's random generator.
    vit_config = ViTMAEConfig(**arch, **overrides, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    return ViTMAEForPreTraining(vit_config)


def normalize(pixels: torch.Tensor) -> torch.Tensor:
    """``(B, 3, S, S)`` in [0, 1] -> ImageNet-normalized (the statistics ViT-MAE checkpoints expect)."""
    mean = pixels.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = pixels.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (pixels - mean) / std


def _frames(video, backend: str) -> Generator[np.ndarray, None, None]:
    """RGB uint8 frames ``(H, W, 3)`` of a video path, a ``VideoStream``, or an array/list of frames.

    A generator, so callers that stop early can ``close()`` it and release the decoder at once.
    """
    if isinstance(video, str | PathLike):
        from pose.video import VideoStream

        return VideoStream(video, backend=backend).frames()
    if hasattr(video, "frames"):
        return video.frames()
    return (frame for frame in video)


def _scaled_box(pose: Pose, frame: np.ndarray, margin: float) -> np.ndarray:
    """The clip's signer box in the video's pixels (the pose may have been extracted at another size)."""
    box = signer_box(pose, margin)
    dims = pose.header.dimensions
    sx = frame.shape[1] / (dims.width or frame.shape[1])
    sy = frame.shape[0] / (dims.height or frame.shape[0])
    return box * np.array([sx, sy, sx, sy], np.float32)


class SignerFrames(torch.utils.data.Dataset):
    """Clip ``i`` -> ``frames_per_clip`` random frames of it, signer-cropped: ``(k, 3, S, S)`` normalized."""

    def __init__(self, clips: list[Clip], config: MAEConfig, image_size: int):
        self.clips, self.config, self.image_size = clips, config, image_size

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> torch.Tensor:
        clip, cfg = self.clips[i], self.config
        pose = read_pose(clip.pose)
        n = len(pose.body.data)
        if n == 0:
            raise InputError(clip.pose, "pose has no frames")
        wanted = np.sort(np.random.choice(n, cfg.frames_per_clip, replace=n < cfg.frames_per_clip))
        picked, last = [], None
        with closing(_frames(clip.video, cfg.video_backend)) as stream:
            for t, frame in enumerate(stream):
                last = frame
                picked.extend([frame] * int((wanted == t).sum()))
                if t >= wanted[-1]:
                    break
        if last is None:
            raise InputError(clip.video, "video has no frames")
        picked += [last] * (len(wanted) - len(picked))  # a video a few frames shorter than its pose
        frames = torch.from_numpy(np.stack(picked))  # (k, H, W, 3) uint8
        box = _scaled_box(pose, picked[0], cfg.margin)
        boxes = np.repeat(box[None], len(picked), 0)  # (k, 4)
        if cfg.augment and cfg.box_jitter:
            side = box[2] - box[0]
            grow = side * np.random.uniform(-cfg.box_jitter, cfg.box_jitter, (len(picked), 1))
            shift = side * np.random.uniform(-cfg.box_jitter, cfg.box_jitter, (len(picked), 2))
            boxes = boxes + np.concatenate([shift - grow, shift + grow], 1)  # x0, y0, x1, y1
        pixels = crop_resize(frames, torch.from_numpy(boxes.astype(np.float32)), self.image_size)  # (k, 3, S, S)
        if cfg.augment and cfg.color_jitter:
            j = cfg.color_jitter
            bright, contrast = torch.from_numpy(np.random.uniform(1 - j, 1 + j, (2, len(picked), 1, 1, 1))).float()
            mean = pixels.mean((1, 2, 3), keepdim=True)
            pixels = ((pixels - mean) * contrast + mean).mul_(bright).clamp_(0, 1)
        return normalize(pixels)


@register("mae")
class MAEObjective(nn.Module):
    """ViT-MAE on signer crops; ``features`` gives ``(T, hidden)`` per clip."""

    Config = MAEConfig

    def __init__(self, config: MAEConfig):
        super().__init__()
        self.config = config
        self.model = build_model(config)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def image_size(self) -> int:
        return int(self.model.config.image_size)

    @property
    def num_patches(self) -> int:
        return (self.image_size // int(self.model.config.patch_size)) ** 2

    def dataset(self, data: PretrainData, config: MAEConfig) -> SignerFrames:
        return SignerFrames(list_clips(data, need_video=True), config, self.image_size)

    @staticmethod
    def collate(samples: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"pixel_values": torch.cat(samples)}  # (B * k, 3, S, S)

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        pixels = batch["pixel_values"]  # (N, 3, S, S)
        # The masking noise from numpy's checkpointed generator (see the module doc), not torch.rand.
        noise = torch.from_numpy(np.random.random_sample((len(pixels), self.num_patches))).float().to(pixels.device)
        out = self.model(pixel_values=pixels, noise=noise)
        return out.loss, {"mask_ratio": float(out.mask.float().mean())}

    def after_step(self, step: int, max_steps: int) -> None:
        """Nothing follows an optimizer step in MAE (no EMA teacher)."""

    @contextmanager
    def _no_masking(self):
        config = self.model.config  # the embeddings read mask_ratio from this same object at every call
        ratio, config.mask_ratio = config.mask_ratio, 0.0
        try:
            yield
        finally:
            config.mask_ratio = ratio

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """``(N, 3, S, S)`` normalized crops -> ``(N, hidden)`` pooled encoder output, masking off."""
        # Identity noise keeps the patches in order, so the output does not depend on any generator.
        noise = torch.arange(self.num_patches, device=pixels.device, dtype=torch.float32).expand(len(pixels), -1)
        with self._no_masking():
            hidden = self.model.vit(pixel_values=pixels, noise=noise).last_hidden_state  # (N, 1 + L, hidden)
        return hidden[:, 0] if self.config.pool == "cls" else hidden[:, 1:].mean(1)

    @torch.no_grad()
    def features(self, pose: Pose | str | PathLike, video) -> torch.Tensor:
        """Per-frame features ``(T, hidden)`` float32 on the CPU, one row per pose frame.

        ``video``: the clip's video path (or a ``VideoStream``, or its RGB frames). Rows follow the
        pose's frames: extra video frames are ignored, and a video a few frames short repeats its
        last frame's features.
        """
        if video is None:
            raise InputError(None, "mae features read video frames: the clip has no video")
        if not isinstance(pose, Pose):
            pose = read_pose(pose)
        total = len(pose.body.data)
        device = next(self.parameters()).device
        rows, chunk, box = [], [], None
        with closing(_frames(video, self.config.video_backend)) as stream:
            for t, frame in enumerate(stream):
                if t >= total:
                    break
                if box is None:
                    box = torch.from_numpy(_scaled_box(pose, frame, self.config.margin))
                chunk.append(frame)
                if len(chunk) == self.config.feature_batch:
                    rows.append(self._encode_frames(chunk, box, device))
                    chunk = []
        if chunk:
            rows.append(self._encode_frames(chunk, box, device))
        if total and not rows:
            raise InputError(getattr(video, "path", video), "video has no frames")
        out = torch.cat(rows).float().cpu() if rows else torch.zeros(0, self.dim)  # (T', hidden)
        if len(out) < total:
            out = torch.cat([out, out[-1:].expand(total - len(out), -1)])
        return out  # (T, hidden)

    def _encode_frames(self, frames: list[np.ndarray], box: torch.Tensor, device: torch.device) -> torch.Tensor:
        batch = torch.from_numpy(np.stack(frames)).to(device)  # (n, H, W, 3) uint8: 4x less to move than float
        pixels = normalize(crop_resize(batch, box.expand(len(frames), 4), self.image_size))  # (n, 3, S, S)
        # Stays on the device: the accelerator encodes this chunk while the next one is decoded.
        return self.encode(pixels)  # (n, hidden)
