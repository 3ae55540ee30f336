"""Every objective shipped with :mod:`pretrain`, registered, and looked up by name.

Importing this module imports DINO, MAE and Sign2Vec (so torch and transformers); each registers
itself in :mod:`pretrain.objective`, which imports none of them (peft's tuners package and
``register_peft_method``). A new objective is a module with ``@register("name")`` and a line here.
"""

from __future__ import annotations

from pose.errors import InputError, quoted

from . import dino, mae, sign2vec  # noqa: F401  (importing registers them)
from .objective import OBJECTIVES


def objective_class(name: str) -> type:
    """The objective registered as ``name``, or a one-line InputError listing the known ones."""
    if name not in OBJECTIVES:
        raise InputError(None, f"unknown objective {quoted(name)}: choose from {', '.join(sorted(OBJECTIVES))}")
    return OBJECTIVES[name]
