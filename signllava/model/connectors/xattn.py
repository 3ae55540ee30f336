"""``xattn``: gated cross-attention blocks inside the frozen LLM (Flamingo, NVLM-X). Before every k-th
decoder layer the text's hidden states attend to all the projected frames; only the stream delimiters
enter the token sequence, so it stays as short as the text, however long the video.

Each block is ``x + tanh(a) attn(LN x, frames)`` then ``x + tanh(b) ff(LN x)`` with the gates ``a``
and ``b`` initialised at 0: a new model is exactly the frozen LLM on the same text, and training
starts from its text behaviour. Text positions from the first stream's ``<video_start>`` on read the
frames (the system prompt before it reads nothing, so its cached keys and values stay text-only:
:mod:`signllava.model.cached_llm`). The blocks run from forward pre-hooks on the decoder layers, found
through transformers' generic ``get_decoder().layers`` (no model class's private layout), and outside
gradient checkpointing's replay (transformers checkpoints ``forward``, not the hooks). The frames'
keys and values are computed once per sample in :meth:`CrossAttentionLayers.reading` and copied
once per beam; a beam search reorders beams within a sample, whose rows all read the same frames.
"""

from __future__ import annotations

import contextlib
import dataclasses
import weakref
from dataclasses import dataclass

import torch
from torch import nn

from pose.errors import InputError, quoted

from .attention import CrossAttention, FeedForward, heads_for, time_encoding
from .registry import Blocks, Connector, frame_steps, register


@dataclass
class CrossAttentionConfig:
    """The gated cross-attention blocks of connectors ``xattn`` and ``hybrid``."""

    every: int = 4  # a block before every k-th decoder layer: layers 0, k, 2k ...
    heads: int = 4  # attention heads (must divide the LLM's hidden size)
    ff_mult: int = 4  # the gated feed-forward's inner width in hidden sizes (Flamingo's 4); 0: no feed-forward

    def __post_init__(self):
        for name, low in (("every", 1), ("heads", 1), ("ff_mult", 0)):
            if getattr(self, name) < low:
                raise InputError(
                    None, f"config value model.xattn.{name}={quoted(getattr(self, name))} must be >= {low}"
                )


class GatedCrossAttention(nn.Module):
    """One tanh-gated block: the identity while both gates are 0."""

    def __init__(self, dim: int, heads: int, ff_mult: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = CrossAttention(dim, heads)
        self.attn_gate = nn.Parameter(torch.zeros(1))
        self.ff_norm = nn.LayerNorm(dim) if ff_mult else None
        self.ff = FeedForward(dim, ff_mult) if ff_mult else None
        self.ff_gate = nn.Parameter(torch.zeros(1)) if ff_mult else None

    def forward(self, x: torch.Tensor, kv, mask: torch.Tensor, reads: torch.Tensor) -> torch.Tensor:
        """``x (R, L, H)``; ``kv``: the frames' keys and values; ``mask (R, T)``; ``reads (R, L, 1)``: the
        positions that read the frames (the others come out unchanged)."""
        x = x + torch.tanh(self.attn_gate) * self.attn(self.norm(x), kv, mask) * reads
        if self.ff is not None:
            x = x + torch.tanh(self.ff_gate) * self.ff(self.ff_norm(x)) * reads
        return x


def decoder_layers(llm: nn.Module) -> nn.ModuleList:
    """The decoder layers of a transformers causal LM (under a peft wrapper too): ``get_decoder().layers``."""
    base = llm.get_base_model() if hasattr(llm, "get_base_model") else llm
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else None
    layers = getattr(decoder, "layers", None)
    if not isinstance(layers, nn.ModuleList) or not len(layers):
        raise InputError(
            None, f"cross-attention needs the LLM's decoder layers; {type(base).__name__} has no get_decoder().layers"
        )
    return layers


class _Frames:
    """One batch's frames as the blocks read them: the memory, its mask, where each sample starts
    reading, and (cached) each block's keys and values, copied once for each row count (beams)."""

    def __init__(self, owner, memory: torch.Tensor, mask: torch.Tensor, reads_from: torch.Tensor, cached: bool):
        self.owner, self.memory, self.mask, self.reads_from = owner, memory, mask, reads_from
        self.first = int(reads_from.min())
        self.kv = [block.attn.keys_values(memory) for block in owner.blocks] if cached else None
        self._rows: dict[int, tuple] = {}

    def rows(self, n: int, block: int):
        """``(kv, mask, reads_from)`` for ``n`` rows: each sample's repeated ``n / B`` times, sample-major
        (as ``generate`` expands its inputs for beams)."""
        if n not in self._rows:
            b = len(self.memory)
            if n % b:
                raise RuntimeError(f"the LLM ran {n} rows for a batch of {b} samples")
            r = n // b

            def rep(t: torch.Tensor) -> torch.Tensor:
                return t if r == 1 else t.repeat_interleave(r, 0)

            kv = [(rep(k), rep(v)) for k, v in self.kv] if self.kv is not None else None
            self._rows[n] = (kv, rep(self.memory), rep(self.mask), rep(self.reads_from))
        kv, memory, mask, reads_from = self._rows[n]
        # uncached: this call's keys and values from the frames themselves (the reference the cache must equal)
        kv = kv[block] if kv is not None else self.owner.blocks[block].attn.keys_values(memory)
        return kv, mask, reads_from


class CrossAttentionLayers(nn.Module):
    """The gated blocks, hooked in front of every ``every``-th decoder layer of ``llm``, and the frame memory."""

    cache_frames = True  # frames' keys and values once per sample; False: recomputed at every LLM call

    def __init__(self, config, hidden: int, llm: nn.Module):
        super().__init__()
        self.cfg = config.xattn
        self.steps = frame_steps(config.streams)
        heads = heads_for(hidden, self.cfg.heads, "model.xattn.heads")
        self.memory_norm = nn.LayerNorm(hidden)
        self.stream_embed = nn.Parameter(torch.zeros(len(config.streams), hidden))  # which stream a frame is from
        layers = decoder_layers(llm)
        self.at = list(range(0, len(layers), self.cfg.every))
        self.blocks = nn.ModuleList(GatedCrossAttention(hidden, heads, self.cfg.ff_mult) for _ in self.at)
        self._frames: _Frames | None = None
        # the hooks hold this module weakly and leave with it; models sharing an LLM each read only
        # inside their own reading()
        owner = weakref.ref(self)
        handles = [
            layers[at].register_forward_pre_hook(_hook(owner, i), with_kwargs=True) for i, at in enumerate(self.at)
        ]
        weakref.finalize(self, lambda: [h.remove() for h in handles])

    def memory(self, projected: Blocks) -> tuple[torch.Tensor, torch.Tensor]:
        """All streams' frames, normalized, with their time and stream: ``(B, T, H)`` and ``(B, T)``."""
        parts, masks = [], []
        for i, (name, step) in enumerate(self.steps.items()):
            x, mask = projected[name]
            time = time_encoding(torch.arange(x.shape[1], device=x.device) * step, x.shape[-1])
            parts.append(self.memory_norm(x) + (time + self.stream_embed[i]).to(x.dtype))
            masks.append(mask)
        return torch.cat(parts, 1), torch.cat(masks, 1)

    @contextlib.contextmanager
    def reading(self, projected: Blocks, reads_from: torch.Tensor):
        """While inside, the LLM's text from ``reads_from`` (``(B,)``, in position ids) reads these frames."""
        memory, mask = self.memory(projected)
        previous = self._frames
        self._frames = _Frames(self, memory, mask, reads_from.to(memory.device), self.cache_frames)
        try:
            yield
        finally:
            self._frames = previous

    def settings(self) -> dict:
        return dataclasses.asdict(self.cfg)


def _hook(owner: weakref.ref, index: int):
    """The forward pre-hook of the decoder layer before which block ``index`` sits."""

    def read_frames(layer, args, kwargs):
        self = owner()
        frames = None if self is None else self._frames
        if frames is None:
            return None
        hidden = args[0] if args else kwargs["hidden_states"]
        positions = kwargs.get("position_ids")
        if positions is None:
            raise InputError(None, f"cross-attention needs position_ids in {type(layer).__name__}'s arguments")
        if int(positions.max()) < frames.first:  # text before every stream (a cached prompt head)
            return None
        kv, mask, reads_from = frames.rows(len(hidden), index)
        reads = (positions >= reads_from[:, None]).unsqueeze(-1)  # (R, L, 1)
        x = hidden.to(self.memory_norm.weight.dtype)
        out = self.blocks[index](x, kv, mask, reads.to(x.dtype)).to(hidden.dtype)
        return ((out, *args[1:]), kwargs) if args else (args, {**kwargs, "hidden_states": out})

    return read_frames


@register(
    "xattn", "gated cross-attention (Flamingo / NVLM-X): the text reads all frames; only delimiters in the sequence"
)
class XAttnConnector(Connector):
    """Empty stream blocks in the sequence; the LLM reads the frames through the gated blocks."""

    def __init__(self, config, hidden: int, text_rms: float, llm: nn.Module):
        super().__init__(config, hidden, text_rms, llm)
        self.xattn = CrossAttentionLayers(config, hidden, llm)

    def sequence(self, projected: Blocks) -> Blocks:
        return {name: (x[:, :0], mask[:, :0]) for name, (x, mask) in projected.items()}  # (B, 0, H)

    def reading(self, projected: Blocks, reads_from: torch.Tensor):
        return self.xattn.reading(projected, reads_from)

    def settings(self) -> dict:
        return {"kind": self.name, "xattn": self.xattn.settings()}

    def no_weight_decay(self) -> set[str]:
        return {n for n, _ in self.named_parameters() if n.endswith("stream_embed")}
