"""SignLLaVA: American Sign Language video to English with a frozen Llama and per-stream projectors.

The package is in rooms: ``model/`` (the model and what builds, saves and loads it), ``inference/``
(using a trained model on videos), ``cluster/`` (stages as SLURM jobs), ``data/`` (datasets, samples, QA
tasks); at the top only the entry points (``cli``, ``notebook``, ``demo``) and the two loops over a split
(``train``, ``evaluate``, with ``metrics``). The names a user reaches for are here too
(``from signllava import Translator``), imported on first use so that ``import signllava`` stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> the module that defines it (no name of a submodule: `train` and `evaluate` are modules here, and
# Python sets a submodule as its package's attribute once imported, which would shadow such an export)
_EXPORTS = {
    "Translator": "signllava.inference.translator",
    "Segment": "signllava.inference.subtitles",
    "QASession": "signllava.notebook",
    "SignLLaVA": "signllava.model.model",
    "ModelConfig": "signllava.model.model",
    "StreamConfig": "signllava.model.model",
    "TrainConfig": "signllava.model.build",
    "load_trained": "signllava.model.build",
    "EvalConfig": "signllava.evaluate",
    "translation_metrics": "signllava.metrics",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'signllava' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # the next lookup does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
