"""``hybrid`` (NVLM-H): a few resampled summary tokens in the sequence, for reasoning over the whole
input, plus gated cross-attention to all the frames, for the detail. Its summary tokens follow
``model.resampler`` (``window: 0`` makes a fixed number per segment), its blocks ``model.xattn``."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from .registry import Blocks, Connector, register
from .resampler import StreamResampler
from .xattn import CrossAttentionLayers


@register("hybrid", "NVLM-H: resampler summary tokens in the sequence plus gated cross-attention to all frames")
class HybridConnector(Connector):
    """The resampler's tokens in the sequence; the cross-attention blocks read the frames."""

    def __init__(self, config, hidden: int, text_rms: float, llm: nn.Module):
        super().__init__(config, hidden, text_rms, llm)
        self.resampler = StreamResampler(config, hidden, text_rms)
        self.xattn = CrossAttentionLayers(config, hidden, llm)

    def sequence(self, projected: Blocks) -> Blocks:
        return self.resampler(projected)

    def reading(self, projected: Blocks, reads_from: torch.Tensor):
        return self.xattn.reading(projected, reads_from)

    def settings(self) -> dict:
        return {
            "kind": self.name,
            "resampler": dataclasses.asdict(self.resampler.cfg),
            "xattn": self.xattn.settings(),
        }

    def no_weight_decay(self) -> set[str]:
        return {n for n, _ in self.named_parameters() if n.endswith(("queries", "stream_embed"))}
