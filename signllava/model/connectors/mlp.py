"""``mlp``: decoder-only (LLaVA, NVLM-D), the default. Each stream's projector output (an MLP per frame
after temporal pooling: :mod:`signllava.model.projectors`) is spliced into the sequence as it is; the
connector adds nothing, so models and checkpoints made before connectors existed are unchanged."""

from __future__ import annotations

from .registry import Blocks, Connector, register


@register("mlp", "decoder-only (LLaVA): the projected, pooled frames are tokens in the LLM's sequence")
class MLPConnector(Connector):
    """The projected frames are the sequence's sign tokens (no parameters of its own)."""

    def sequence(self, projected: Blocks) -> Blocks:
        return projected
