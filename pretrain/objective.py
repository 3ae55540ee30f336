"""What every self-supervised objective provides to the shared trainer and to feature extraction.

An objective (Sign2Vec, DINO, MAE) is an ``nn.Module`` that owns its networks and knows its data:

* ``Config``: a dataclass of its model settings (validated in ``__post_init__``), filled from the
  ``model`` section of a :class:`~pretrain.build.PretrainConfig`;
* ``dataset(data, config)``: a torch ``Dataset`` of training samples built from a
  :class:`~pretrain.data.PretrainData` (pose files, and videos for the image objectives), and
  ``collate(samples)`` making a batch of them;
* ``loss(batch)``: ``(scalar loss, {metric: float})`` for one batch (metrics are logged, e.g. codebook
  perplexity or teacher entropy);
* ``after_step(step, max_steps)``: anything that follows an optimizer step (DINO's EMA teacher);
* ``features(pose, video)``: the per-frame features ``(T, dim)`` of one clip for the feature store,
  and ``dim``, their size.

Objectives register by name with :func:`register` when their module is imported; this registry knows
none of them. :mod:`pretrain.objectives` imports every builtin one and looks them up by name (the
trainer and ``extract-features`` go through it), as peft's tuners package does for its methods.
"""

from __future__ import annotations

import re
from collections.abc import Callable

OBJECTIVES: dict[str, type] = {}
_NAME = re.compile(r"[a-z][a-z0-9_]*")  # the value of ``objective:`` in a config, and a stream name


def register(name: str) -> Callable[[type], type]:
    """Class decorator: ``@register("dino")`` adds the objective under ``name`` (and sets ``cls.name``).

    A name already taken is refused, so two objectives can never silently replace one another.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"objective name {name!r} must be lowercase letters, digits or _, starting with a letter")

    def add(cls: type) -> type:
        if name in OBJECTIVES:
            raise ValueError(f"an objective is already registered as {name!r} ({OBJECTIVES[name].__qualname__})")
        cls.name = name
        OBJECTIVES[name] = cls
        return cls

    return add
