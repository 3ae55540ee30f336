"""DINO self-distillation on face and hand crops (objective ``dino``): the per-frame DINO stream.

A student ViT (transformers' ``Dinov2Model``, ViT-S/14 by default) learns to match an EMA teacher
across augmented views of the same part crop: 2 global and N local random resized crops of the
face, left hand or right hand crop of one frame (:mod:`pretrain.crops` locates them from the
MediaPipe landmarks). Both networks end in a DINO head (MLP -> l2-normalized bottleneck ->
weight-normalized prototypes); the teacher's outputs are centred (running mean over batches) and
sharpened (low temperature), which is what keeps the two from collapsing to a constant.

Features for the store are the teacher's CLS token of the face, left hand and right hand crops of
each frame, concatenated: ``(T, 3 * hidden)``, 1152 for ViT-S; zeros where a part was not found.

Augmentations run on the batch's device inside :meth:`Dino.loss`, drawn from a generator seeded by
a counter kept in the weights, never the global RNG: the trainer's DataLoader draws from the
global RNG when it starts iterating, so a resumed run would otherwise see different views than an
uninterrupted one. Stochastic depth (``drop_path`` > 0) does use the global RNG; it is off by default.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pose_format import Pose
from torch import nn

from pose.errors import MESSAGE, InputError, excerpt, quoted

from .crops import (
    PARTS,
    CropConfig,
    PartBoxes,
    PartCropDataset,
    SampleConfig,
    box_crops,
    collate_crops,
    part_boxes,
    part_crops,
    video_frames,
)
from .data import PretrainData
from .objective import register
from .runtime import check_weight_folder

# backbone presets: hidden size, layers, attention heads, patch size
SIZES: dict[str, tuple[int, int, int, int]] = {
    "tiny": (32, 2, 2, 8),  # tests on the CPU
    "small": (384, 12, 6, 14),  # ViT-S/14, as DINOv2 small: 384 per part, 1152 per frame
    "base": (768, 12, 12, 14),  # ViT-B/14
}
MEAN = (0.485, 0.456, 0.406)  # ImageNet statistics, which the published DINOv2 weights expect
STD = (0.229, 0.224, 0.225)


@dataclass
class DinoConfig:
    """DINO model, augmentation and data settings (the ``model`` section of a pretraining config)."""

    size: str = "small"  # backbone preset: tiny, small (ViT-S/14) or base (ViT-B/14)
    init: str | None = None  # Dinov2Model checkpoint (local folder or hub id): its architecture and weights
    shared: bool = True  # one network for all three parts; False: one per part (face, left, right)
    drop_path: float = 0.0  # stochastic depth of the student (draws from the global RNG)
    # part crops (see pretrain.crops.CropConfig)
    crop_size: int = 224  # side of the part crops: what features() encodes, and what augmentations cut from
    face_padding: float = 0.15
    hand_padding: float = 0.25
    hand_min_side: float = 0.35  # x shoulder width
    mirror_left: bool = True  # mirror the left hand so a shared network sees two right hands
    fix_handedness: bool = True
    # multi-crop augmentation
    global_size: int = 224  # side of the 2 global views (the backbone's native image size)
    local_size: int = 98  # side of the local views (7 x 7 patches of 14)
    n_local: int = 8
    global_min_scale: float = 0.4  # global views cover this share of the crop's area, up to all of it
    local_min_scale: float = 0.1
    local_max_scale: float = 0.4
    flip_face: bool = True  # random horizontal flips of the face; never of hands (a flip changes handedness)
    jitter: float = 0.2  # brightness, contrast and saturation factors in [1 - j, 1 + j] (80 % of views)
    grayscale: float = 0.1  # share of views turned gray
    # DINO head and loss
    head_hidden: int = 2048
    head_bottleneck: int = 256
    out_dim: int = 65536  # prototypes
    teacher_temp: float = 0.04
    student_temp: float = 0.1
    center_momentum: float = 0.9
    momentum: float = 0.996  # EMA teacher momentum at the first step, cosine schedule to 1 at the last
    # data (see pretrain.crops.SampleConfig)
    frames_per_sample: int = 8
    samples_per_clip: int = 4
    cache_clips: int = 0
    feature_batch: int = 64  # frames per forward pass in features()

    def __post_init__(self):
        if self.size not in SIZES:
            raise InputError(None, f"unknown dino size {quoted(self.size)}: choose from {', '.join(SIZES)}")
        positive = ("crop_size", "global_size", "local_size", "head_hidden", "head_bottleneck", "out_dim")
        positive += ("frames_per_sample", "samples_per_clip", "feature_batch")
        for name in positive:
            if getattr(self, name) < 1:
                raise InputError(None, f"dino {name} must be >= 1, got {getattr(self, name)}")
        if self.n_local < 0 or self.cache_clips < 0:
            raise InputError(None, "dino n_local and cache_clips must be >= 0")
        if not 0 < self.global_min_scale <= 1 or not 0 < self.local_min_scale <= self.local_max_scale <= 1:
            raise InputError(None, "dino crop scales must satisfy 0 < min <= max <= 1")
        if self.teacher_temp <= 0 or self.student_temp <= 0:
            raise InputError(None, "dino temperatures must be positive")
        if not 0 <= self.center_momentum < 1 or not 0 <= self.momentum <= 1 or not 0 <= self.drop_path < 1:
            raise InputError(None, "dino center_momentum, momentum and drop_path must lie in [0, 1)")
        if not 0 <= self.jitter < 1 or not 0 <= self.grayscale <= 1:
            raise InputError(None, "dino jitter must lie in [0, 1) and grayscale in [0, 1]")
        patch = SIZES[self.size][3]
        if self.init is None and (self.global_size % patch or self.local_size % patch):
            raise InputError(None, f"dino global_size and local_size must be multiples of the patch size {patch}")

    def crops(self) -> CropConfig:
        names = ("face_padding", "hand_padding", "hand_min_side", "mirror_left", "fix_handedness")
        return CropConfig(size=self.crop_size, **{n: getattr(self, n) for n in names})

    def sampling(self) -> SampleConfig:
        return SampleConfig(self.frames_per_sample, self.samples_per_clip, self.cache_clips)


def ema_momentum(step: int, max_steps: int, base: float) -> float:
    """DINO's cosine schedule: ``base`` after the first optimizer step, rising to 1 after the last."""
    progress = (step - 1) / max(1, max_steps - 1)
    return 1 - (1 - base) * (math.cos(math.pi * min(max(progress, 0.0), 1.0)) + 1) / 2


class DinoHead(nn.Module):
    """MLP -> l2-normalized bottleneck -> prototypes with unit norm (weight norm, gain fixed to 1)."""

    def __init__(self, dim: int, hidden: int, bottleneck: int, out_dim: int):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, bottleneck)
        )
        self.prototypes = nn.Parameter(torch.empty(out_dim, bottleneck))
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                nn.init.trunc_normal_(layer.weight, std=0.02)
                nn.init.zeros_(layer.bias)
        nn.init.trunc_normal_(self.prototypes, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, dim) -> (N, out_dim) cosine logits
        z = F.normalize(self.mlp(x), dim=-1)
        return F.linear(z, F.normalize(self.prototypes, dim=-1))


class DinoNet(nn.Module):
    """A ViT backbone and its DINO head."""

    def __init__(self, config: DinoConfig):
        super().__init__()
        from transformers import Dinov2Config, Dinov2Model

        if config.init:
            if Path(config.init).is_dir():  # a damaged weight file is one line naming it
                check_weight_folder(config.init)
            try:
                self.backbone = Dinov2Model.from_pretrained(config.init, drop_path_rate=config.drop_path)
            except OSError as err:  # no such folder, and the hub is unreachable or has no such id
                raise InputError(config.init, f"cannot load a Dinov2Model from it ({excerpt(err, MESSAGE)})") from err
        else:
            hidden, layers, heads, patch = SIZES[config.size]
            vit = Dinov2Config(
                hidden_size=hidden,
                num_hidden_layers=layers,
                num_attention_heads=heads,
                patch_size=patch,
                image_size=config.global_size,
                drop_path_rate=config.drop_path,
                use_mask_token=False,  # no masked-image objective: an unused parameter would only confuse
            )
            self.backbone = Dinov2Model(vit)
        self.head = DinoHead(
            self.backbone.config.hidden_size, config.head_hidden, config.head_bottleneck, config.out_dim
        )

    def embed(self, images: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) normalized -> (N, hidden) CLS
        return self.backbone(pixel_values=images).pooler_output

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) -> (N, out_dim)
        return self.head(self.embed(images))


# --- augmentation ---------------------------------------------------------------------------------


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator, device) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen, device=device)


def random_resized_boxes(n: int, side: int, scale: tuple[float, float], gen: torch.Generator, device) -> torch.Tensor:
    """``(n, 4)`` boxes in an image of ``side`` pixels covering a random share ``scale`` of its area,
    aspect ratio in [3/4, 4/3] (log-uniform), anywhere inside the image."""
    area = _uniform(n, *scale, gen, device) * side * side
    ratio = torch.exp(_uniform(n, math.log(3 / 4), math.log(4 / 3), gen, device))
    w = torch.sqrt(area * ratio).clamp(max=side)
    h = torch.sqrt(area / ratio).clamp(max=side)
    x0 = torch.rand(n, generator=gen, device=device) * (side - w)
    y0 = torch.rand(n, generator=gen, device=device) * (side - h)
    return torch.stack([x0, y0, x0 + w, y0 + h], -1)


def color_jitter(x: torch.Tensor, strength: float, gray_p: float, gen: torch.Generator) -> torch.Tensor:
    """Light photometric noise on ``(N, 3, H, W)`` images in [0, 1]: brightness, contrast, saturation."""
    n, device = len(x), x.device
    on = torch.rand(n, generator=gen, device=device) < 0.8

    def factor() -> torch.Tensor:
        f = _uniform(n, 1 - strength, 1 + strength, gen, device)
        return torch.where(on, f, torch.ones_like(f))[:, None, None, None]

    weights = torch.tensor([0.299, 0.587, 0.114], device=device)[None, :, None, None]
    x = x * factor()
    mean = (x * weights).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    x = (x - mean) * factor() + mean
    gray = (x * weights).sum(1, keepdim=True)
    x = (x - gray) * factor() + gray
    to_gray = (torch.rand(n, generator=gen, device=device) < gray_p)[:, None, None, None]
    x = torch.where(to_gray, ((x * weights).sum(1, keepdim=True)).expand_as(x), x)
    return x.clamp(0, 1)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 or [0, 1] float ``(N, 3, H, W)`` -> ImageNet-normalized float."""
    x = images.float() / 255 if images.dtype == torch.uint8 else images
    mean = torch.tensor(MEAN, device=x.device)[None, :, None, None]
    std = torch.tensor(STD, device=x.device)[None, :, None, None]
    return (x - mean) / std


def multicrop(
    crops: torch.Tensor, flippable: torch.Tensor, config: DinoConfig, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Views of part crops ``(N, 3, S, S)`` uint8: globals ``(2 * N, 3, G, G)``, locals ``(L * N, 3, l, l)``
    (view-major: rows ``v * N + i`` are view ``v`` of crop ``i``), normalized for the backbone."""
    n, side, device = len(crops), crops.shape[-1], crops.device
    frames = crops.permute(0, 2, 3, 1)  # (N, S, S, 3): box_crops' layout, a view
    out = []
    for count, size, scale in (
        (2, config.global_size, (config.global_min_scale, 1.0)),
        (config.n_local, config.local_size, (config.local_min_scale, config.local_max_scale)),
    ):
        boxes = random_resized_boxes(count * n, side, scale, gen, device).view(count, n, 4).transpose(0, 1)
        flip = (torch.rand(n, count, generator=gen, device=device) < 0.5) & flippable[:, None]
        views = box_crops(frames, boxes, size, flip).transpose(0, 1).reshape(count * n, 3, size, size)
        views = color_jitter(views.float() / 255, config.jitter, config.grayscale, gen)
        out.append(normalize(views))
    return out[0], out[1]


# --- the objective --------------------------------------------------------------------------------


@register("dino")
class Dino(nn.Module):
    """Student and EMA teacher (one shared pair, or one per part), with DINO's centering buffers."""

    Config = DinoConfig
    collate = staticmethod(collate_crops)

    def __init__(self, config: DinoConfig):
        super().__init__()
        self.config = config
        self.keys = ["shared"] if config.shared else list(PARTS)
        self.student = nn.ModuleDict({k: DinoNet(config) for k in self.keys})
        self.teacher = nn.ModuleDict({k: DinoNet(config) for k in self.keys})
        self.teacher.load_state_dict(self.student.state_dict())
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.hidden = self.student[self.keys[0]].backbone.config.hidden_size
        self.register_buffer("center", torch.zeros(len(self.keys), config.out_dim))
        # augmentation randomness: a seed drawn from the (trainer-seeded) global RNG and a call counter
        self.register_buffer("aug_seed", torch.randint(0, 2**62, (1,)))
        self.register_buffer("aug_calls", torch.zeros(1, dtype=torch.long))

    @property
    def dim(self) -> int:
        return 3 * self.hidden

    def train(self, mode: bool = True) -> Dino:
        super().train(mode)
        self.teacher.eval()  # the teacher never uses stochastic depth
        return self

    def dataset(self, data: PretrainData, config: DinoConfig) -> PartCropDataset:
        return PartCropDataset(data, config.crops(), config.sampling())

    def _generator(self, device: torch.device) -> torch.Generator:
        seed = np.random.SeedSequence([int(self.aug_seed), int(self.aug_calls)]).generate_state(1, np.uint64)[0]
        if self.training:
            self.aug_calls += 1
        return torch.Generator(device=device).manual_seed(int(seed))

    def _group_loss(self, g: int, crops: torch.Tensor, parts: torch.Tensor, gen: torch.Generator):
        """DINO loss of one student/teacher pair on its crops ``(N, 3, S, S)``; also teacher probabilities."""
        cfg, key, n = self.config, self.keys[g], len(crops)
        flippable = (parts == 0) & cfg.flip_face  # faces only
        globals_, locals_ = multicrop(crops, flippable, cfg, gen)
        student = self.student[key]
        logits = [student(globals_).float()]  # (2N, K)
        if cfg.n_local:
            logits.append(student(locals_).float())  # (L * N, K)
        student_logp = F.log_softmax(torch.cat(logits) / cfg.student_temp, -1).split(n)  # 2 + L views of (N, K)
        with torch.no_grad():
            teacher_out = self.teacher[key](globals_).float()  # (2N, K)
            q = F.softmax((teacher_out - self.center[g]) / cfg.teacher_temp, -1).split(n)
        total, terms = 0.0, 0
        for i, qi in enumerate(q):
            for v, logp in enumerate(student_logp):
                if v != i:  # never the same view
                    total = total + (-(qi * logp).sum(-1)).mean()
                    terms += 1
        if self.training:
            with torch.no_grad():
                batch_center = teacher_out.mean(0)
                self.center[g].mul_(cfg.center_momentum).add_(batch_center, alpha=1 - cfg.center_momentum)
        return total / terms, torch.cat(q)

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        crops, parts = batch["crops"], batch["parts"]  # (N, 3, S, S) uint8, (N,)
        gen = self._generator(crops.device)
        groups = [torch.ones_like(parts, dtype=torch.bool)] if self.config.shared else [parts == p for p in range(3)]
        losses, probs = [], []
        for g, rows in enumerate(groups):
            if rows.any():
                loss, q = self._group_loss(g, crops[rows], parts[rows], gen)
                losses.append(loss)
                probs.append(q)
        if not losses:  # no part found in any frame of the batch: a zero loss that still has a graph
            zero = sum(p.sum() for p in self.student.parameters()) * 0.0
            return zero, {"teacher_entropy": 0.0, "batch_entropy": 0.0, "kl": 0.0, "crops": 0.0}
        loss = torch.stack(losses).mean()
        with torch.no_grad():
            q = torch.cat(probs)  # (V * N, K)
            entropy = float(-(q * q.clamp_min(1e-12).log()).sum(-1).mean())
            mean_q = q.mean(0)
            batch_entropy = float(-(mean_q * mean_q.clamp_min(1e-12).log()).sum())  # near 0: collapse to one prototype
        # the cross-entropy minus the teacher's entropy is the KL divergence teacher -> student
        metrics = {"teacher_entropy": entropy, "batch_entropy": batch_entropy, "kl": float(loss.detach()) - entropy}
        return loss, metrics | {"crops": float(len(crops))}

    @torch.no_grad()
    def after_step(self, step: int, max_steps: int) -> None:
        """EMA teacher: ``teacher = m * teacher + (1 - m) * student``."""
        m = ema_momentum(step, max_steps, self.config.momentum)
        for key in self.keys:
            student = list(self.student[key].parameters())
            teacher = list(self.teacher[key].parameters())
            torch._foreach_mul_(teacher, m)
            # (1 - m) * student rounded on its own, not fused into the add: the update is then exactly the formula
            torch._foreach_add_(teacher, torch._foreach_mul(student, 1 - m))

    @torch.no_grad()
    def embed_parts(self, crops: torch.Tensor, parts: torch.Tensor) -> torch.Tensor:
        """Teacher CLS ``(N, hidden)`` of part crops ``(N, 3, S, S)`` uint8 with part ids ``(N,)``."""
        out = torch.zeros(len(crops), self.hidden, device=crops.device)
        groups = [torch.ones_like(parts, dtype=torch.bool)] if self.config.shared else [parts == p for p in range(3)]
        for key, rows in zip(self.keys, groups, strict=True):
            if rows.any():
                out[rows] = self.teacher[key].embed(normalize(crops[rows])).float()
        return out

    @torch.no_grad()
    def features(self, pose: Pose, video) -> torch.Tensor:
        """Per-frame ``(T, 3 * hidden)`` teacher CLS of the face, left and right hand crops (zeros where
        a part is missing; frames past the video's end are zeros), ``T`` = the pose's frames. ``video``:
        a path, or frames ``(T, H, W, 3)`` uint8."""
        device = self.center.device
        crop_config = self.config.crops()
        n = len(pose.body.data)
        stream, size = video_frames(video, float(pose.body.fps))
        boxes: PartBoxes = part_boxes(pose, crop_config, size)
        out = torch.zeros(n, 3, self.hidden, device=device)
        chunk: list[np.ndarray] = []
        start = 0

        def encode():
            picked = boxes[start : start + len(chunk)]
            crops = part_crops(np.stack(chunk), picked, crop_config.size, device)  # (B, 3, 3, S, S)
            found = torch.as_tensor(picked.found, device=device)  # (B, 3)
            parts = torch.arange(3, device=device).expand_as(found)
            out[start : start + len(chunk)][found] = self.embed_parts(crops[found], parts[found])

        for img in stream:
            if start + len(chunk) >= n:
                break
            chunk.append(img)
            if len(chunk) == self.config.feature_batch:
                encode()
                start, chunk = start + len(chunk), []
        if chunk:
            encode()
        return out.reshape(n, self.dim)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.config).items() if k in ("size", "init", "shared"))
