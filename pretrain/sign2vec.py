"""Sign2Vec: wav2vec 2.0 on pose sequences (registered objective ``"sign2vec"``).

Each frame's 255-value pose view (:func:`pose.features.sign2vec_view_255`), standardized with
running dataset statistics (without that the codebook collapses on poses, see
:class:`InputStandardizer`), goes through a feature encoder that keeps the frame rate (one output per
pose frame at 25 fps: poses are already a compact, slow signal, unlike 16 kHz audio that wav2vec 2.0
downsamples 320x), then transformers' wav2vec2 feature projection, span masking, transformer context
network and Gumbel quantizer. The loss is wav2vec 2.0's: contrastive over masked frames against
negatives sampled from the same clip's masked frames, plus the codebook diversity loss.
Only the pose-specific parts are written here.

Get an encoder back from a run with ``pretrain.build.load_objective("runs/x/last")`` and call
``features(pose)`` for ``(T, hidden)`` float32 per-frame features of the context network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import Wav2Vec2Config
from transformers.models.wav2vec2.modeling_wav2vec2 import (
    Wav2Vec2Encoder,
    Wav2Vec2EncoderStableLayerNorm,
    Wav2Vec2FeatureProjection,
    Wav2Vec2ForPreTraining,
    Wav2Vec2GumbelVectorQuantizer,
    _compute_mask_indices,
    _sample_negative_indices,
)

from pose.errors import InputError, quoted
from pose.features import sign2vec_view_255
from pose.io import read_pose

from .data import PretrainData, list_clips
from .objective import register
from .runtime import sum_over_ranks

INPUT_DIM = 255  # 85 landmarks x (x, y, z)

# size presets: (layers, hidden, heads, ffn, feature dim, code groups, codes per group, codevector dim,
# contrastive projection dim, positional conv kernel, positional conv groups)
SIZES: dict[str, dict[str, int]] = {
    "tiny": dict(
        num_layers=2,
        hidden_size=64,
        num_heads=2,
        intermediate_size=128,
        feature_dim=64,
        codebook_groups=2,
        codebook_size=16,
        codevector_dim=32,
        proj_dim=32,
        pos_conv_kernel=16,
        pos_conv_groups=4,
    ),  # fmt: skip
    "small": dict(
        num_layers=4,
        hidden_size=256,
        num_heads=4,
        intermediate_size=1024,
        feature_dim=256,
        codebook_groups=2,
        codebook_size=64,
        codevector_dim=128,
        proj_dim=128,
        pos_conv_kernel=64,
        pos_conv_groups=16,
    ),  # fmt: skip
    "base": dict(
        num_layers=12,
        hidden_size=768,
        num_heads=12,
        intermediate_size=3072,
        feature_dim=512,
        codebook_groups=2,
        codebook_size=320,
        codevector_dim=256,
        proj_dim=256,
        pos_conv_kernel=128,
        pos_conv_groups=16,
    ),  # fmt: skip
}
ENCODERS = ("conv", "mlp")
INPUT_NORMS = ("standardize", "center", "none")


@dataclass
class Sign2VecConfig:
    """Model settings; the ``None`` sizes come from the ``size`` preset."""

    size: str = "base"  # preset: tiny (tests), small (CPU experiments) or base (12 layers, 768)
    num_layers: int | None = None  # transformer layers of the context network
    hidden_size: int | None = None  # context network width (= feature dim for the store)
    num_heads: int | None = None
    intermediate_size: int | None = None  # transformer feed-forward width
    feature_dim: int | None = None  # feature encoder output width (what the quantizer reads)
    codebook_groups: int | None = None  # Gumbel quantizer groups G
    codebook_size: int | None = None  # codes per group V
    codevector_dim: int | None = None  # concatenated code vector size (split over the groups)
    proj_dim: int | None = None  # space of the contrastive cosine similarity
    pos_conv_kernel: int | None = None  # relative positional conv embedding, in frames
    pos_conv_groups: int | None = None
    feature_encoder: str = "conv"  # "conv" (1-D over time, stride 1) or "mlp" (each frame alone)
    feature_layers: int = 3  # layers of the feature encoder
    input_norm: str = "standardize"  # "standardize" (running dataset statistics), "center" (per window) or "none"
    feature_grad_mult: float = 0.1  # gradient scale into the feature encoder (as wav2vec 2.0 base)
    conv_kernel: int = 5  # frames seen by each conv layer (odd: output stays aligned with the frames)
    stable_layer_norm: bool = True  # pre-LN transformer (wav2vec2 large's, trains more stably than post-LN)
    dropout: float = 0.1  # hidden, attention and feature projection dropout
    layerdrop: float = 0.0
    mask_time_prob: float = 0.65  # share of frames chosen as span starts x span length (wav2vec 2.0)
    mask_time_length: int = 10  # span length in frames (0.4 s at 25 fps)
    mask_min_spans: int = 2  # at least this many spans per clip long enough for them
    num_negatives: int = 100  # distractors per masked frame (capped by the masked frames a clip has)
    contrastive_temperature: float = 0.1
    diversity_weight: float = 0.1
    gumbel_max: float = 2.0  # Gumbel softmax temperature at the start
    gumbel_min: float = 0.5  # ... floor
    gumbel_decay: float | None = None  # per-step factor (wav2vec 2.0: 0.999995); None: reach the floor at max_steps
    max_frames: int = 250  # training window (10 s at 25 fps); feature extraction runs windows of this size
    init: str = ""  # optional start: a folder (or .safetensors) saved by this trainer, or a hub id; never by default

    def __post_init__(self):
        if self.size not in SIZES:
            raise InputError(None, f"unknown sign2vec size {quoted(self.size)}: choose from {', '.join(SIZES)}")
        for name, value in SIZES[self.size].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        for name in (*SIZES["base"], "feature_layers", "conv_kernel", "mask_time_length", "num_negatives"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InputError(None, f"sign2vec {name} must be a positive integer, got {quoted(getattr(self, name))}")
        if self.feature_encoder not in ENCODERS:
            raise InputError(
                None, f"sign2vec feature_encoder must be one of {ENCODERS}, got {quoted(self.feature_encoder)}"
            )
        if self.input_norm not in INPUT_NORMS:
            raise InputError(None, f"sign2vec input_norm must be one of {INPUT_NORMS}, got {quoted(self.input_norm)}")
        if self.conv_kernel % 2 == 0:
            raise InputError(None, f"sign2vec conv_kernel must be odd (frame-aligned output), got {self.conv_kernel}")
        if self.hidden_size % self.num_heads or self.hidden_size % self.pos_conv_groups:
            raise InputError(None, "sign2vec hidden_size must be divisible by num_heads and pos_conv_groups")
        if self.codevector_dim % self.codebook_groups:
            raise InputError(None, "sign2vec codevector_dim must be divisible by codebook_groups")
        if not 0 < self.mask_time_prob <= 1 or not 0 <= self.dropout < 1 or not 0 <= self.layerdrop < 1:
            raise InputError(None, "sign2vec mask_time_prob must be in (0, 1], dropout and layerdrop in [0, 1)")
        if not 0 < self.gumbel_min <= self.gumbel_max or (
            self.gumbel_decay is not None and not 0 < self.gumbel_decay <= 1
        ):
            raise InputError(None, "sign2vec needs 0 < gumbel_min <= gumbel_max and gumbel_decay in (0, 1]")
        if not 0 <= self.feature_grad_mult <= 1:
            raise InputError(None, f"sign2vec feature_grad_mult must be in [0, 1], got {self.feature_grad_mult}")
        if self.max_frames < self.mask_time_length + 1 or self.mask_min_spans < 0:
            raise InputError(None, "sign2vec max_frames must exceed mask_time_length; mask_min_spans >= 0")

    def wav2vec2(self) -> Wav2Vec2Config:
        """The transformers config of the reused pieces (its conv "feature extractor" is ours)."""
        config = Wav2Vec2Config(
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            conv_dim=(self.feature_dim,),
            conv_kernel=(1,),
            conv_stride=(1,),
            num_conv_pos_embeddings=self.pos_conv_kernel,
            num_conv_pos_embedding_groups=self.pos_conv_groups,
            do_stable_layer_norm=self.stable_layer_norm,
            hidden_dropout=self.dropout,
            attention_dropout=self.dropout,
            activation_dropout=0.0,
            feat_proj_dropout=self.dropout,
            layerdrop=self.layerdrop,
            num_codevector_groups=self.codebook_groups,
            num_codevectors_per_group=self.codebook_size,
            codevector_dim=self.codevector_dim,
            proj_codevector_dim=self.proj_dim,
            mask_time_prob=self.mask_time_prob,
            mask_time_length=self.mask_time_length,
            mask_time_min_masks=self.mask_min_spans,
            num_negatives=self.num_negatives,
            contrastive_logits_temperature=self.contrastive_temperature,
            diversity_loss_weight=self.diversity_weight,
        )
        config._attn_implementation = "sdpa"
        return config


class InputStandardizer(nn.Module):
    """Each pose value standardized by running statistics over the found landmarks seen in training.

    Why: the raw 255 values are dominated by what is static (face, body, a signer's build), with the
    moving hands a small variation on top; at initialization every frame of a clip then gets the same
    codes, the distractors (other frames of the clip) equal the positive and the contrastive loss is
    trivially zero (measured on synthsign: codebook perplexity ~5 of 32 at init, collapse to 2 within
    30 steps). Statistics are buffers (checkpointed), not learned, and the same in training and
    extraction; missing landmarks stay 0."""

    def __init__(self, dim: int = INPUT_DIM, momentum: float = 0.01):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.register_buffer("count", torch.zeros(dim))  # values seen per dim (the first batch sets the stats)

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        found = (x != 0) & attention_mask[..., None]  # (B, T, 255): zero-filled = not found or padding
        if self.training:
            with torch.no_grad():
                # over every rank's batch in a distributed run, so that the ranks keep the same statistics
                n = sum_over_ranks(found.sum((0, 1)).to(x.dtype))  # (255,)
                mean = sum_over_ranks((x * found).sum((0, 1))) / n.clamp(min=1)
                var = sum_over_ranks(((x - mean) ** 2 * found).sum((0, 1))) / n.clamp(min=1)
                rate = torch.where(self.count > 0, self.momentum, 1.0) * (n > 0)  # dims not seen keep theirs
                self.mean.lerp_(mean, rate)
                self.var.lerp_(var, rate)
                self.count += n
        out = (x - self.mean) * torch.rsqrt(self.var + 1e-6)
        return torch.where(found, out, torch.zeros_like(out))


def center_window(x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Each pose value minus its mean over the window's frames where it was found (missing stay 0).

    Also keeps the codebook from collapsing (perplexity ~16 of 32 at init), but where the hands are
    relative to the body survives only relative to the window's mean: sign retrieval on synthsign
    drops from 86% (raw view) to 66% (centred view)."""
    found = (x != 0) & attention_mask[..., None]  # (B, T, 255): zero-filled = not found or padding
    count = found.sum(1, keepdim=True).clamp(min=1)
    mean = (x * found).sum(1, keepdim=True) / count  # (B, 1, 255)
    return torch.where(found, x - mean, torch.zeros_like(x))


class PoseFeatureEncoder(nn.Module):
    """255 pose values per frame -> ``feature_dim``, one output frame per input frame.

    "conv": 1-D convolutions over time (stride 1, same padding) so each output sees a few frames of
    motion; "mlp": each frame on its own. LayerNorm after every layer, as in wav2vec2's layer-norm
    conv stack, which also makes the small signing-space coordinates' scale irrelevant.
    """

    def __init__(self, config: Sign2VecConfig):
        super().__init__()
        self.kind = config.feature_encoder
        dims = [INPUT_DIM] + [config.feature_dim] * config.feature_layers
        k = config.conv_kernel if self.kind == "conv" else 1
        self.layers = nn.ModuleList(nn.Conv1d(a, b, k, padding=k // 2) for a, b in zip(dims, dims[1:], strict=False))
        self.norms = nn.ModuleList(nn.LayerNorm(config.feature_dim) for _ in range(config.feature_layers))
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        keep = attention_mask[..., None].to(x.dtype)  # (B, T, 1): padding must not leak into neighbours
        for conv, norm in zip(self.layers, self.norms, strict=True):
            x = self.act(norm(conv((x * keep).transpose(1, 2)).transpose(1, 2)))  # (B, T, C)
        return x


@register("sign2vec")
class Sign2Vec(nn.Module):
    """wav2vec 2.0 pretraining on pose frames; see the module doc."""

    Config = Sign2VecConfig

    def __init__(self, config: Sign2VecConfig):
        super().__init__()
        self.config = config
        w2v = config.wav2vec2()
        self.input_norm = InputStandardizer()  # its buffers exist (unused) under the other input_norm choices
        self.feature_encoder = PoseFeatureEncoder(config)
        self.feature_projection = Wav2Vec2FeatureProjection(w2v)
        self.masked_spec_embed = nn.Parameter(torch.empty(config.hidden_size).uniform_())
        self.encoder = (Wav2Vec2EncoderStableLayerNorm if config.stable_layer_norm else Wav2Vec2Encoder)(w2v)
        self.quantizer = Wav2Vec2GumbelVectorQuantizer(w2v)
        self.project_hid = nn.Linear(config.hidden_size, config.proj_dim)
        self.project_q = nn.Linear(config.codevector_dim, config.proj_dim)
        # a buffer, so a resumed run's first step uses the decayed temperature (it is in the checkpoint)
        self.register_buffer("gumbel_temperature", torch.tensor(float(config.gumbel_max)))
        # 1 once `init` weights are in (or when there is none): resuming or loading never reads `init` again
        self.register_buffer("initialized", torch.tensor(0 if config.init else 1, dtype=torch.uint8))
        self._init_weights()

    @property
    def dim(self) -> int:
        return self.config.hidden_size

    def _init_weights(self) -> None:
        """wav2vec2's initialization (what ``Wav2Vec2PreTrainedModel._init_weights`` does)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        for conv in self.feature_encoder.layers:
            nn.init.kaiming_normal_(conv.weight)
        k = math.sqrt(1 / self.feature_projection.projection.in_features)
        nn.init.uniform_(self.feature_projection.projection.weight, -k, k)
        nn.init.uniform_(self.feature_projection.projection.bias, -k, k)
        pos = self.encoder.pos_conv_embed.conv
        with torch.no_grad():  # assigning a weight-normed conv's weight sets its magnitude and direction
            pos.weight = torch.randn_like(pos.weight) * 2 * math.sqrt(1 / (pos.kernel_size[0] * pos.in_channels))
        nn.init.zeros_(pos.bias)
        nn.init.normal_(self.quantizer.weight_proj.weight, std=1.0)  # Gumbel logits need a wide spread
        nn.init.zeros_(self.quantizer.weight_proj.bias)
        nn.init.uniform_(self.quantizer.codevectors)
        self.project_hid.reset_parameters()
        self.project_q.reset_parameters()

    def _apply_init(self) -> None:
        """Load the ``init`` checkpoint's weights once, before the first forward pass."""
        if int(self.initialized):
            return
        from .runtime import load_weights

        path = Path(self.config.init)
        if not path.exists():  # only an explicitly configured hub id ever reaches the network
            from huggingface_hub import snapshot_download

            path = Path(snapshot_download(self.config.init, allow_patterns=["*.safetensors", "*.yaml", "*.json"]))
        file = path if path.is_file() else path / "model.safetensors"
        if not file.is_file():
            raise InputError(path, "sign2vec init: no model.safetensors (a folder saved by the pretraining trainer)")
        state = load_weights(file, self.initialized.device)
        state["gumbel_temperature"], state["initialized"] = self.gumbel_temperature, torch.ones_like(self.initialized)
        mine = self.state_dict()
        if set(state) != set(mine) or any(state[k].shape != mine[k].shape for k in mine):
            raise InputError(file, "sign2vec init: weights do not match this model's config (size, encoder, codebook)")
        self.load_state_dict(state, strict=True)

    # --- data ---------------------------------------------------------------------------------

    def dataset(self, data: PretrainData, config: Sign2VecConfig) -> Sign2VecDataset:
        return Sign2VecDataset(data, config.max_frames)

    @staticmethod
    def collate(samples: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        lengths = torch.tensor([len(s) for s in samples])
        inputs = torch.zeros(len(samples), int(lengths.max()), INPUT_DIM)
        for i, s in enumerate(samples):
            inputs[i, : len(s)] = s
        mask = torch.arange(inputs.shape[1])[None] < lengths[:, None]
        return {"inputs": inputs, "attention_mask": mask}  # (B, T, 255), (B, T) bool

    # --- masking and negatives (numpy RNG, which the trainer checkpoints) ----------------------

    def sample_mask(self, attention_mask: torch.Tensor) -> np.ndarray:
        """Masked time spans ``(B, T)`` bool, only on real frames."""
        c = self.config
        batch, length = attention_mask.shape
        if length < c.mask_time_length:  # transformers' sampler refuses spans longer than the batch
            return np.zeros((batch, length), bool)
        mask = _compute_mask_indices(
            (batch, length),
            c.mask_time_prob,
            c.mask_time_length,
            attention_mask.detach().long().cpu(),
            c.mask_min_spans,
        )
        # a clip with no room for a span gets transformers' dummy index (the last, padded frame): drop it
        return mask & attention_mask.detach().cpu().numpy()

    def sample_negatives(self, mask: np.ndarray) -> np.ndarray:
        """``(B, T, K)`` flat indices into ``B * T`` of distractors for each masked frame: other masked
        frames of the same clip, never the frame itself. K = num_negatives, or fewer when no clip of the
        batch has that many other masked frames; clips with fewer than 2 masked frames get none."""
        batch, length = mask.shape
        counts = mask.sum(1)
        k = int(max(1, min(self.config.num_negatives, counts.max() - 1)))
        out = np.zeros((batch, length, k), np.int64)
        rows = np.flatnonzero(counts >= 2)
        if rows.size:
            local = _sample_negative_indices((len(rows), length), k, mask[rows])  # offsets of the kept rows
            out[rows] = local % length + rows[:, None, None] * length
        return out

    # --- model --------------------------------------------------------------------------------

    def _project(self, inputs: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._apply_init()
        if self.config.input_norm == "center":
            inputs = center_window(inputs, attention_mask)
        elif self.config.input_norm == "standardize":
            inputs = self.input_norm(inputs, attention_mask)
        features = self.feature_encoder(inputs, attention_mask)  # (B, T, C)
        if self.training and self.config.feature_grad_mult != 1.0:  # same values, scaled gradient
            m = self.config.feature_grad_mult
            features = features * m + features.detach() * (1 - m)
        return self.feature_projection(features)  # (B, T, H) to the transformer, (B, T, C) normed to the quantizer

    def encode(self, inputs: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Context network output ``(B, T, H)`` without masking (for a batch of padded clips)."""
        hidden, _ = self._project(inputs, attention_mask)
        return self.encoder(hidden, attention_mask=attention_mask).last_hidden_state

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        inputs, attention_mask = batch["inputs"], batch["attention_mask"]  # (B, T, 255), (B, T)
        batch_size, length, _ = inputs.shape
        hidden, normed = self._project(inputs, attention_mask)
        mask_np = self.sample_mask(attention_mask)
        negatives = self.sample_negatives(mask_np)  # (B, T, K)
        mask_np &= (mask_np.sum(1) >= 2)[:, None]  # a clip without distractors cannot score its frames
        if not mask_np.any():  # every clip too short to mask: nothing to learn from this batch
            return sum(p.sum() for p in self.parameters()) * 0.0, {"masked": 0.0}
        mask = torch.from_numpy(mask_np).to(inputs.device)
        hidden = torch.where(mask[..., None], self.masked_spec_embed.to(hidden.dtype), hidden)
        context = self.encoder(hidden, attention_mask=attention_mask).last_hidden_state  # (B, T, H)
        self.quantizer.temperature = float(self.gumbel_temperature)
        quantized, perplexity = self.quantizer(normed, mask_time_indices=mask)  # (B, T, codevector_dim)
        targets = self.project_q(quantized.to(self.project_q.weight.dtype))  # (B, T, P)
        predicted = self.project_hid(context)[mask]  # (M, P): only masked frames are scored
        flat = targets.reshape(batch_size * length, -1)
        positive = flat[mask.reshape(-1)]  # (M, P)
        distractors = flat[torch.from_numpy(negatives).to(inputs.device)[mask]].transpose(0, 1)  # (K, M, P)
        logits = Wav2Vec2ForPreTraining.compute_contrastive_logits(
            positive[None], distractors, predicted, c.contrastive_temperature
        )  # (1 + K, M)
        # a distractor identical to the positive (same code) would be an unanswerable question
        logits[1:][(positive[None] == distractors).all(-1)] = float("-inf")
        logits = logits.transpose(0, 1).float()  # (M, 1 + K)
        contrastive = nn.functional.cross_entropy(
            logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device)
        )
        codes = c.codebook_groups * c.codebook_size
        diversity = (codes - perplexity) / codes
        loss = contrastive + c.diversity_weight * diversity
        metrics = {
            "contrastive": contrastive.item(),
            "diversity": diversity.item(),
            "perplexity": perplexity.item(),
            "accuracy": (logits.argmax(-1) == 0).float().mean().item(),  # positive ranked first
            "temperature": float(self.gumbel_temperature),
            "masked": float(mask.sum() / attention_mask.sum()),
            "negatives": float(negatives.shape[-1]),
        }
        return loss, metrics

    def after_step(self, step: int, max_steps: int) -> None:
        """Gumbel temperature decay (exponential, floored), a function of the step only."""
        c = self.config
        decay = c.gumbel_decay if c.gumbel_decay is not None else (c.gumbel_min / c.gumbel_max) ** (1 / max_steps)
        self.gumbel_temperature.fill_(max(c.gumbel_min, c.gumbel_max * decay**step))

    # --- features -----------------------------------------------------------------------------

    @torch.no_grad()
    def features(self, pose, video=None) -> np.ndarray:
        """``(T, hidden)`` float32 features of one clip (a ``Pose`` or a ``.pose`` path), unmasked.

        Clips longer than ``max_frames`` run as overlapping windows of ``max_frames`` (the length the
        model trained on), batched; each frame's feature comes from the window where it sits in the
        middle half, so every frame sees at least a quarter window of context on both sides."""
        del video  # poses only
        view = _view(pose)  # (T, 255)
        length, window = len(view), self.config.max_frames
        core, margin = max(1, window // 2), window // 4
        starts = [0] if length <= window else list(range(0, length, core))
        spans = [(max(0, min(s - margin, length - window)), s, min(length, s + core)) for s in starts]
        device = self.gumbel_temperature.device
        was_training = self.training
        self.eval()
        chunks = [torch.from_numpy(view[a : a + window]) for a, _, _ in spans]
        batch = self.collate(chunks)
        out = self.encode(batch["inputs"].to(device), batch["attention_mask"].to(device)).float().cpu()  # (N, W, H)
        self.train(was_training)
        if length <= window:
            return out[0, :length].numpy()
        return torch.cat([out[i, s - a : e - a] for i, (a, s, e) in enumerate(spans)]).numpy()


def _view(pose) -> np.ndarray:
    if isinstance(pose, str | Path):
        pose = read_pose(pose)
    feats, _ = sign2vec_view_255(pose)  # missing landmarks are already zero
    return np.nan_to_num(feats, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


class Sign2VecDataset(torch.utils.data.Dataset):
    """One random window of up to ``max_frames`` per clip and visit (poses read lazily: a few ms each)."""

    def __init__(self, data: PretrainData, max_frames: int):
        self.clips = list_clips(data)
        self.max_frames = max_frames

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> torch.Tensor:
        view = _view(self.clips[i].pose)
        if len(view) == 0:
            raise InputError(self.clips[i].pose, "pose has no frames")
        extra = len(view) - self.max_frames
        # torch's RNG: checkpointed by the trainer and seeded per DataLoader worker
        start = int(torch.randint(extra + 1, ()).item()) if extra > 0 else 0
        return torch.from_numpy(view[start : start + self.max_frames])  # (T, 255)


__all__ = ["SIZES", "Sign2Vec", "Sign2VecConfig", "Sign2VecDataset", "PoseFeatureEncoder"]
