"""The attention parts the resampler and the gated cross-attention share."""

from __future__ import annotations

import math

import torch
from torch import nn

from pose.errors import InputError


def time_encoding(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal encoding ``(..., dim)`` of frame positions ``(...)`` (in video frames): attention alone
    is blind to order, and the order of the signs is the order of the words."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=positions.device) / max(half, 1))
    angles = positions.float().unsqueeze(-1) * freqs  # (..., dim // 2)
    out = torch.cat([angles.sin(), angles.cos()], -1)
    return nn.functional.pad(out, (0, dim - 2 * half))


def heads_for(hidden: int, heads: int, what: str) -> int:
    if hidden % heads:
        raise InputError(None, f"config value {what}={heads} must divide the LLM's hidden size {hidden}")
    return heads


class CrossAttention(nn.Module):
    """Multi-head attention of queries ``(R, L, H)`` on a memory's keys and values; padded memory slots
    are masked. Keys and values come from :meth:`keys_values`, so a caller can compute them once."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim, bias=False)
        self.o = nn.Linear(dim, dim, bias=False)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        return x.view(b, n, self.heads, d // self.heads).transpose(1, 2)  # (B, heads, N, d)

    def keys_values(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``memory (R, T, H)`` -> keys and values ``(R, heads, T, H / heads)``."""
        return self._split(self.k(memory)), self._split(self.v(memory))

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        """``x (R, L, H)`` attends to ``kv`` where ``mask (R, T)`` is True -> ``(R, L, H)``."""
        mask = mask | ~mask.any(-1, keepdim=True)  # a memory of padding only: attend to it, not to nothing (NaN)
        q = self._split(self.q(x))
        out = nn.functional.scaled_dot_product_attention(q, *kv, attn_mask=mask[:, None, None, :])
        return self.o(out.transpose(1, 2).reshape(x.shape))


class FeedForward(nn.Module):
    """``Linear -> GELU -> Linear`` with a ``mult``-times wider inner layer."""

    def __init__(self, dim: int, mult: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, mult * dim), nn.GELU(), nn.Linear(mult * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
