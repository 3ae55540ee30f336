"""``resampler``: learned queries cross-attend to a window of projected frames and hand the LLM a fixed
number of tokens per window (Flamingo's Perceiver resampler, BLIP-2's Q-Former, the window downsampling
of speech LLMs), spliced into the sequence as ``mlp``'s tokens are. The sequence gets short and its
length stops depending on the frame rate; what the queries do not pick up is lost to the LLM.

Windows are ``window`` seconds of video (``0``: the whole segment is one window, a fixed number of
tokens per clip); one resampler per stream, or one over every stream's frames of a window (``joint``,
one token block). Each frame carries a sinusoidal encoding of its time in the window.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from pose.errors import InputError, quoted

from .attention import CrossAttention, FeedForward, heads_for, time_encoding
from .registry import Blocks, Connector, frame_steps, register


@dataclass
class ResamplerConfig:
    """The learned-query resampler of connectors ``resampler`` and ``hybrid`` (its summary tokens)."""

    queries: int = 4  # learned queries per window: the tokens each window becomes
    window: float = 1.0  # seconds of video per window; 0: each segment (clip) is one window
    fps: float = 25.0  # the streams' frame rate before pooling, which turns window seconds into frames
    joint: bool = False  # one resampler over every stream's frames (one token block), not one per stream
    layers: int = 2  # layers of (the queries attend to the window's frames, feed-forward)
    heads: int = 4  # attention heads (must divide the LLM's hidden size)

    def __post_init__(self):
        for name, low in (("queries", 1), ("layers", 1), ("heads", 1)):
            if getattr(self, name) < low:
                raise InputError(
                    None, f"config value model.resampler.{name}={quoted(getattr(self, name))} must be >= {low}"
                )
        if self.window < 0 or self.fps <= 0:
            raise InputError(
                None,
                f"config values model.resampler.window={quoted(self.window)} (>= 0) / "
                f"fps={quoted(self.fps)} (> 0) are invalid",
            )


def windows(x: torch.Tensor, mask: torch.Tensor, size: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``x (B, T, H)`` and its ``(B, T)`` mask cut into ``count`` windows of ``size`` frames (zero-padded):
    ``(B, count, size, H)`` and ``(B, count, size)``."""
    b, t, h = x.shape
    pad = count * size - t
    x = nn.functional.pad(x, (0, 0, 0, pad))
    mask = nn.functional.pad(mask, (0, pad))
    return x.view(b, count, size, h), mask.view(b, count, size)


class ResamplerLayer(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = CrossAttention(dim, heads)
        self.ff_norm = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, 2)

    def forward(self, q: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        q = q + self.attn(self.norm(q), self.attn.keys_values(memory), mask)
        return q + self.ff(self.ff_norm(q))


class Resampler(nn.Module):
    """``queries`` learned vectors read a window of frames ``(N, W, H)`` and become ``(N, queries, H)``
    tokens, RMS-normalized to the text embeddings' scale (learned gain)."""

    def __init__(self, dim: int, cfg: ResamplerConfig, text_rms: float):
        super().__init__()
        self.queries = nn.Parameter(torch.randn(cfg.queries, dim) * 0.02)
        self.frame_norm = nn.LayerNorm(dim)
        self.layers = nn.ModuleList(
            ResamplerLayer(dim, heads_for(dim, cfg.heads, "model.resampler.heads")) for _ in range(cfg.layers)
        )
        self.out = nn.RMSNorm(dim, eps=1e-6)  # large token norms drown the instruction ("LLM dormancy")
        with torch.no_grad():
            self.out.weight.fill_(text_rms)

    def forward(self, frames: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """``frames (N, W, H)``, ``mask (N, W)``, ``positions (W,)`` in video frames -> ``(N, queries, H)``."""
        memory = self.frame_norm(frames) + time_encoding(positions, frames.shape[-1]).to(frames.dtype)
        q = self.queries.expand(len(frames), -1, -1)
        for layer in self.layers:
            q = layer(q, memory, mask)
        return self.out(q)


class StreamResampler(nn.Module):
    """Every stream's projected frames -> the resampled token blocks (one per stream, or one joint)."""

    def __init__(self, config, hidden: int, text_rms: float):
        super().__init__()
        self.cfg = config.resampler
        self.steps = frame_steps(config.streams)
        names = ["streams"] if self.cfg.joint else list(config.streams)
        self.resamplers = nn.ModuleDict({n: Resampler(hidden, self.cfg, text_rms) for n in names})
        # joint: which stream a frame comes from (the windows' frames of every stream are one memory)
        self.stream_embed = nn.Parameter(torch.zeros(len(config.streams), hidden)) if self.cfg.joint else None

    def window_frames(self, name: str, frames: int) -> int:
        """Projected frames per window of stream ``name`` (a batch of ``frames`` projected frames)."""
        if self.cfg.window == 0:
            return max(frames, 1)
        return max(1, round(self.cfg.window * self.cfg.fps / self.steps[name]))

    def forward(self, projected: Blocks) -> Blocks:
        if not self.cfg.joint:
            return {name: self._resample(self.resamplers[name], [name], projected) for name in self.steps}
        return {"streams": self._resample(self.resamplers["streams"], list(self.steps), projected)}

    def _resample(self, resampler: Resampler, names: list[str], projected: Blocks) -> tuple[torch.Tensor, torch.Tensor]:
        sizes = {n: self.window_frames(n, projected[n][0].shape[1]) for n in names}
        count = max(max(1, -(-projected[n][0].shape[1] // sizes[n])) for n in names)
        parts, masks, positions = [], [], []
        for i, name in enumerate(names):
            x, m = windows(*projected[name], sizes[name], count)  # (B, n, W, H), (B, n, W)
            parts.append(x if self.stream_embed is None else x + self.stream_embed[i].to(x.dtype))
            masks.append(m)
            positions.append(torch.arange(sizes[name], device=x.device) * self.steps[name])
        x, m, pos = torch.cat(parts, 2), torch.cat(masks, 2), torch.cat(positions)
        b, n, w, h = x.shape
        tokens = resampler(x.reshape(b * n, w, h), m.reshape(b * n, w), pos)  # (B * n, Q, H)
        q = tokens.shape[1]
        return tokens.reshape(b, n * q, h), m.any(-1).repeat_interleave(q, 1)  # (B, n Q, H), (B, n Q)


@register("resampler", "learned queries per window (Perceiver resampler / Q-Former): a few tokens per second")
class ResamplerConnector(Connector):
    """The resampled tokens of each window are the sequence's sign tokens."""

    def __init__(self, config, hidden: int, text_rms: float, llm: nn.Module):
        super().__init__(config, hidden, text_rms, llm)
        self.resampler = StreamResampler(config, hidden, text_rms)

    def sequence(self, projected: Blocks) -> Blocks:
        return self.resampler(projected)

    def settings(self) -> dict:
        return {"kind": self.name, "resampler": dataclasses.asdict(self.resampler.cfg)}

    def no_weight_decay(self) -> set[str]:
        return {n for n, _ in self.named_parameters() if n.endswith(("queries", "stream_embed"))}
