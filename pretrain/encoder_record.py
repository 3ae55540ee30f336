"""Which pretraining checkpoint extracted an encoder stream of a feature store (``STORE/STREAM/encoder.json``).

``extract-features`` writes the record beside the features it extracted, so a model trained on that
store finds the same encoder at inference time (:mod:`signllava.inference.encoders` reads it back).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pose.io import atomic_output

ENCODER_RECORD = "encoder.json"


def record_encoder(store_root: str | os.PathLike, stream: str, checkpoint: str | os.PathLike) -> Path:
    """Note which pretraining checkpoint extracted ``stream`` in a feature store (atomically)."""
    path = Path(store_root) / stream / ENCODER_RECORD
    with atomic_output(path) as tmp:  # its folder made, after the check that no file is in the way
        tmp.write_text(json.dumps({"stream": stream, "checkpoint": str(Path(checkpoint).resolve())}) + "\n")
    return path


def recorded_encoder(store_root: str | os.PathLike | None, stream: str) -> Path | None:
    """The checkpoint recorded for ``stream`` in a feature store, if any and if it still exists."""
    if not store_root:
        return None
    path = Path(store_root) / stream / ENCODER_RECORD
    try:
        checkpoint = Path(json.loads(path.read_text())["checkpoint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return checkpoint if checkpoint.is_dir() else None
