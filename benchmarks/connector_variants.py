"""The connector variants that ``connectors.py`` (cost), ``connectors_quality.py`` and ``denormals.py`` compare,
in one place each of them imports (so neither half of the connectors benchmark imports the other)."""

from __future__ import annotations

from signllava.model.connectors import CrossAttentionConfig, ResamplerConfig
from signllava.model.model import ModelConfig, StreamConfig

# name -> (connector, pooling of every stream, resampler settings, cross-attention settings)
VARIANTS = {
    "mlp": ("mlp", {"pool": "none"}, {}, {}),  # decoder-only, one token per frame (the original's)
    "mlp/4": ("mlp", {"pool": "mean", "stride": 4}, {}, {}),  # the default model's pooling
    "resampler": ("resampler", {"pool": "none"}, {"queries": 4, "window": 1.0}, {}),  # 4 tokens a second
    "xattn": ("xattn", {"pool": "none"}, {}, {"every": 4}),
    "hybrid": ("hybrid", {"pool": "none"}, {"queries": 8, "window": 0.0}, {"every": 4}),  # 8 per segment
}


def model_config(
    variant: str, streams: dict[str, int], llm: str, projector: dict | None = None, **extra
) -> ModelConfig:
    """The model of ``variant`` for ``streams`` ({name: dim}); ``projector``: StreamConfig settings of every stream."""
    connector, pooling, resampler, xattn = VARIANTS[variant]
    return ModelConfig(
        llm=llm,
        streams={name: StreamConfig(dim, **pooling, **(projector or {})) for name, dim in streams.items()},
        connector=connector,
        resampler=ResamplerConfig(**resampler),
        xattn=CrossAttentionConfig(**xattn),
        **extra,
    )
