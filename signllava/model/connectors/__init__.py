"""Connectors: how the projected sign streams reach the frozen LLM (``model.connector``).

``mlp`` (the default) splices the projected frames into the sequence; ``resampler`` splices a few
learned summaries per window; ``xattn`` lets the text read the frames through gated cross-attention
inside the LLM; ``hybrid`` does both. Importing this package registers each (one module per
connector, :mod:`.registry` knows none of them); a new connector is a module with ``@register``
and a line here.
"""

from __future__ import annotations

# isort: off
# importing registers them, in this order (the default first, as show-config lists them)
from . import mlp, resampler, xattn, hybrid  # noqa: F401

# isort: on
from .registry import CONNECTORS, Connector, build_connector, check_name, connector_lines
from .resampler import ResamplerConfig
from .xattn import CrossAttentionConfig

__all__ = [
    "CONNECTORS",
    "Connector",
    "CrossAttentionConfig",
    "ResamplerConfig",
    "build_connector",
    "check_name",
    "connector_lines",
]
