"""Stream projectors: temporal pooling, then an MLP into the LLM's embedding width.

One registry keyed by name (LLaVA's convention): ``linear``, ``mlp2x_gelu``, ``mlp3x_gelu`` ...
The original SignLLaVA made one LLM token per frame per stream, which overflows a 2,048-token
window with four streams; ``pool`` ("none", "mean" or "stride") with ``stride`` k makes one token
per k frames. ``temporal`` residual convolution blocks after the projector let each token see its
neighbours (a sign spans several tokens), which a per-token MLP cannot.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch
from torch import nn

from pose.errors import InputError, quoted

PROJECTORS: dict[str, Callable[[int, int], nn.Module]] = {"linear": lambda i, o: nn.Linear(i, o)}
MLP_RE = re.compile(r"^mlp(\d+)x_gelu$")
POOLS = ("none", "mean", "stride")
OUT_NORMS = ("none", "rms")


def build_projector(kind: str, in_dim: int, out_dim: int) -> nn.Module:
    """``linear`` or ``mlp{N}x_gelu`` (N Linear layers with GELU between, the first from in_dim)."""
    if kind in PROJECTORS:
        return PROJECTORS[kind](in_dim, out_dim)
    match = MLP_RE.match(kind)
    if not match or int(match.group(1)) < 1:
        raise InputError(None, f"unknown projector {quoted(kind)}; use linear or mlpNx_gelu (e.g. mlp2x_gelu)")
    layers: list[nn.Module] = [nn.Linear(in_dim, out_dim)]
    for _ in range(int(match.group(1)) - 1):
        layers += [nn.GELU(), nn.Linear(out_dim, out_dim)]
    return nn.Sequential(*layers)


def pool_time(x: torch.Tensor, mask: torch.Tensor, pool: str, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pool ``x (B, T, D)`` with frame mask ``(B, T)`` to ``(B, ceil(T / stride), D)`` and its mask.

    ``mean`` averages the real frames of each window; ``stride`` keeps the first frame of each window.
    A window is real when it holds at least one real frame.
    """
    if pool == "none" or stride == 1:
        return x, mask
    b, t, d = x.shape
    pad = (-t) % stride
    if pad:
        x = torch.nn.functional.pad(x, (0, 0, 0, pad))
        mask = torch.nn.functional.pad(mask, (0, pad))
    windows = x.view(b, -1, stride, d)  # (B, T', k, D)
    wmask = mask.view(b, -1, stride)  # (B, T', k)
    if pool == "stride":
        return windows[:, :, 0], wmask[:, :, 0]
    weights = wmask.to(x.dtype).unsqueeze(-1)
    summed = (windows * weights).sum(2)
    count = weights.sum(2).clamp(min=1)
    return summed / count, wmask.any(-1)


class TemporalBlock(nn.Module):
    """``x + W GELU(conv_k(LayerNorm x))`` over the token axis, padding masked out.

    ``W`` starts at zero, so a new block is the identity: adding blocks to a trained projector
    (a warm start) keeps what it does and learns only the temporal context on top.
    """

    def __init__(self, dim: int, kernel: int = 5):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2)
        self.out = nn.Linear(dim, dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.norm(x) * mask.unsqueeze(-1).to(x.dtype)  # padding must not leak into real tokens
        h = self.conv(h.transpose(1, 2)).transpose(1, 2)
        return x + self.out(nn.functional.gelu(h))


class StreamProjector(nn.Module):
    """Temporal pooling, the projector MLP, optional temporal blocks and output norm, for one stream."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        kind: str = "mlp2x_gelu",
        pool: str = "mean",
        stride: int = 1,
        out_norm: str = "none",
        text_rms: float = 1.0,
        temporal: int = 0,
    ):
        super().__init__()
        if out_norm not in OUT_NORMS:
            raise InputError(
                None, f"unknown projector output norm {quoted(out_norm)}; choose one of {', '.join(OUT_NORMS)}"
            )
        if pool not in POOLS:
            raise InputError(None, f"unknown temporal pooling {quoted(pool)}; choose one of {', '.join(POOLS)}")
        if stride < 1:
            raise InputError(None, f"temporal stride must be >= 1, got {stride}")
        if temporal < 0:
            raise InputError(None, f"temporal (convolution blocks) must be >= 0, got {temporal}")
        self.in_dim, self.pool, self.stride = in_dim, pool, stride
        self.proj = build_projector(kind, in_dim, out_dim)
        self.temporal = nn.ModuleList(TemporalBlock(out_dim) for _ in range(temporal))
        # "rms": RMS-normalize the sign tokens with a learned gain that starts at the text embeddings' RMS,
        # so they enter the LLM at text-like norms (large norms drown the instruction: "LLM dormancy")
        self.norm = None
        if out_norm == "rms":
            self.norm = nn.RMSNorm(out_dim, eps=1e-6)
            with torch.no_grad():
                self.norm.weight.fill_(text_rms)

    def tokens(self, frames: int) -> int:
        """How many LLM tokens a clip of ``frames`` real frames becomes."""
        return frames if self.pool == "none" else -(-frames // self.stride)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, mask = pool_time(x, mask, self.pool, self.stride)  # (B, T', D_in), (B, T')
        x = self.proj(x)  # (B, T', H)
        for block in self.temporal:
            x = block(x, mask)
        return (self.norm(x) if self.norm is not None else x), mask
