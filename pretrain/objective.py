"""What every self-supervised objective provides to the shared trainer and to feature extraction.

An objective (Sign2Vec, DINO, MAE) is an ``nn.Module`` that owns its networks and knows its data:

* ``Config``: a dataclass of its model settings (validated in ``__post_init__``), filled from the
  ``model`` section of a :class:`~pretrain.trainer.PretrainConfig`;
* ``dataset(data, config)``: a torch ``Dataset`` of training samples built from a
  :class:`~pretrain.data.PretrainData` (pose files, and videos for the image objectives), and
  ``collate(samples)`` making a batch of them;
* ``loss(batch)``: ``(scalar loss, {metric: float})`` for one batch (metrics are logged, e.g. codebook
  perplexity or teacher entropy);
* ``after_step(step, max_steps)``: anything that follows an optimizer step (DINO's EMA teacher);
* ``features(pose, video)``: the per-frame features ``(T, dim)`` of one clip for the feature store,
  and ``dim``, their size.

Objectives register by name with :func:`register`; the trainer and ``extract-features`` find them
in :data:`OBJECTIVES`.
"""

from __future__ import annotations

from collections.abc import Callable

OBJECTIVES: dict[str, type] = {}


def register(name: str) -> Callable[[type], type]:
    def add(cls: type) -> type:
        cls.name = name
        OBJECTIVES[name] = cls
        return cls

    return add


def objective_class(name: str) -> type:
    from pose.errors import InputError

    _load_builtin()
    if name not in OBJECTIVES:
        raise InputError(None, f"unknown objective {name!r}: choose from {', '.join(sorted(OBJECTIVES))}")
    return OBJECTIVES[name]


def _load_builtin() -> None:
    """Import the objectives shipped with the package (each registers itself)."""
    from . import dino, mae, sign2vec  # noqa: F401
