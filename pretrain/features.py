"""Open a stream's features in either layout: our feature store or the original JSALT 2024 HDF5 files.

It sits above both readers (:mod:`pretrain.store`, :mod:`pretrain.jsalt`), which know nothing of each other.
"""

from __future__ import annotations

import os
from pathlib import Path

from pose.errors import InputError

from .jsalt import JsaltFeatures
from .store import FeatureStore


def open_features(path: str | os.PathLike, stream: str | None = None):
    """Open features in either layout: our store (``path`` = root, with ``stream``), or the original
    JSALT 2024 layout (``path`` = its ``.json`` index or one ``.h5`` shard)."""
    path = Path(path)
    if path.suffix in (".json", ".h5", ".hdf5") and path.is_file():
        return JsaltFeatures.open(path)
    if stream is None:
        raise InputError(path, "name the stream to open (a feature store root holds one folder per stream)")
    return FeatureStore.open(path, stream)
