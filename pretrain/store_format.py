"""The on-disk format of a feature store that its reader and its writer share.

:mod:`pretrain.store` reads a store (its docstring describes the layout) and
:mod:`pretrain.store_writer` writes one; both import the names, dims and checks from here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from pose.errors import MESSAGE, InputError, excerpt, quoted

FORMAT = "signllava-features/1"
STREAM_DIMS = {"pose": 208, "sign2vec": 768, "dino": 1152, "mae": 768}  # JSALT 2024 per-frame dims
DTYPE = np.dtype("<f2")
HEADER_BYTES = 128  # numpy pads a 2-D .npy header to 128 bytes for any realistic shape
SHARDS = "shards"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,199}")


def check_name(kind: str, name: str) -> str:
    """Stream and shard names become file names: letters, digits and ``_ . + -``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        rule = "1-200 letters, digits or _ . + -, starting with a letter or digit"
        raise InputError(None, f"{kind} name {quoted(name)} must be {rule}")
    return name


def validate_clip(stream: str, clip: str, features, dim: int | None) -> np.ndarray:
    """``features`` as a float16 ``(T, D)`` array, or a one-line InputError naming stream and clip."""
    where = f"stream {stream!r}, clip {clip!r}"
    if not isinstance(clip, str) or not clip:
        raise InputError(None, f"stream {quoted(stream)}: clip names must be non-empty strings, got {quoted(clip)}")
    try:
        arr = np.asarray(features)
        with np.errstate(over="ignore"):  # overflow becomes inf, reported below with the clip's name
            arr = arr.astype(DTYPE, copy=False) if arr.dtype.kind in "fiub" else None
    except (TypeError, ValueError):
        arr = None
    if arr is None:
        raise InputError(None, f"{where}: features must be a numeric array, got {type(features).__name__}")
    if arr.ndim != 2:
        raise InputError(None, f"{where}: features must be 2-D (frames, dim), got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise InputError(None, f"{where}: features have dim {arr.shape[1]} but the stream's dim is {dim}")
    bad = arr.size - int(np.isfinite(arr).sum())
    if bad:  # values beyond float16's +-65504 became inf in the cast: caught here too
        raise InputError(None, f"{where}: {bad} values are NaN or infinite (after conversion to float16)")
    return np.ascontiguousarray(arr)


def committed_parts(shards: Path) -> list[Path]:
    """Committed part indexes (temporary files of writers start with a dot and are skipped)."""
    if not shards.is_dir():
        return []
    return sorted(p for p in shards.iterdir() if p.suffix == ".json" and not p.name.startswith("."))


def read_part_index(path: Path, stream: str) -> dict:
    try:
        meta = json.loads(path.read_text())
        ok = meta.get("format") == FORMAT and isinstance(meta.get("clips"), dict)
    except (OSError, ValueError, AttributeError) as err:
        raise InputError(
            path, f"not a readable feature shard index ({type(err).__name__}: {excerpt(err, MESSAGE)})"
        ) from err
    if not ok:
        raise InputError(path, f"not a feature shard index (expected format {FORMAT!r})")
    if meta.get("stream") != stream:
        raise InputError(path, f"shard belongs to stream {quoted(meta.get('stream'))}, not {quoted(stream)}")
    return meta
