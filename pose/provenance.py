"""How a dataset's poses were made, carried from extraction to the model that learns from them.

A model learns the landmarks of one MediaPipe setting at one frame rate; ``translate`` must extract
a new video's poses the same way. So the settings travel: ``extract-poses`` writes its config beside
the poses (``extract_poses*.yaml``, one per shard); ``extract-features`` copies the Holistic
settings it finds there, with the frame rate of the clips it read, into the feature store
(``STORE/STREAM/poses.json``); ``train`` records them in the checkpoint (``meta.json``: ``poses``);
and ``Translator.load`` extracts with them. The record is ``{"holistic": {...} or null, "fps": ...}``:
Holistic settings are null where no extraction config was found (e.g. generated synthsign poses),
and the frame rate is what the .pose files say (the median over the clips).
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

from .config import HolisticConfig
from .errors import InputError
from .io import atomic_output

EXTRACT_CONFIGS = "extract_poses*.yaml"  # what `signllava extract-poses` writes beside its output
RECORD = "poses.json"  # in a feature store's stream folder


def recorded_holistic(folder: str | os.PathLike) -> dict | None:
    """The Holistic settings ``extract-poses`` recorded in ``folder`` (one config per shard), or None
    when it recorded none. Shards that disagree are a warning and None: the settings are unknown."""
    import yaml

    found = {}
    for path in sorted(Path(folder).glob(EXTRACT_CONFIGS)):
        try:
            holistic = (yaml.safe_load(path.read_text()) or {}).get("holistic") or {}
            found[path.name] = dataclasses.asdict(HolisticConfig(**holistic))
        except (OSError, yaml.YAMLError, TypeError, AttributeError, InputError) as err:
            raise InputError(path, f"unreadable extraction config ({err})") from err
    settings = {json.dumps(s, sort_keys=True) for s in found.values()}
    if len(settings) > 1:
        differing = ", ".join(found)
        warnings.warn(f"{folder}: poses extracted with different Holistic settings ({differing})", stacklevel=2)
        return None
    return next(iter(found.values()), None)


def typical_fps(values: Iterable[float]) -> float | None:
    """The frame rate most clips have (the median), or None for no clips."""
    values = [float(v) for v in values]
    return round(statistics.median(values), 3) if values else None


def record_for(folder: str | os.PathLike | None, fps_values: Iterable[float]) -> dict:
    """The record for poses from ``folder`` whose clips have these frame rates."""
    return {"holistic": recorded_holistic(folder) if folder else None, "fps": typical_fps(fps_values)}


def write_record(stream_dir: str | os.PathLike, record: Mapping) -> Path:
    path = Path(stream_dir) / RECORD
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(dict(record), sort_keys=True) + "\n")
    return path


def read_record(stream_dir: str | os.PathLike) -> dict | None:
    """A feature store stream's record, None where it has none (stores made before it existed)."""
    path = Path(stream_dir) / RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except ValueError as err:
        raise InputError(path, f"corrupt pose record ({err})") from err
    if not isinstance(record, dict):
        raise InputError(path, "corrupt pose record (not an object)")
    return record


def merged(records: Iterable[dict | None]) -> dict | None:
    """One record for a model's streams: the first stream's that knows anything, with a warning
    when two streams' poses were made differently."""
    known = [r for r in records if r and (r.get("holistic") or r.get("fps"))]
    if any(r != known[0] for r in known[1:]):
        warnings.warn(f"the streams' poses were made differently ({known}); recording the first stream's", stacklevel=2)
    return known[0] if known else None


def extraction_settings(
    record: Mapping | None, source: str | os.PathLike | None = None
) -> tuple[HolisticConfig | None, float | None]:
    """``(Holistic settings, frame rate)`` to extract new videos with, each None where unknown;
    a record that makes no sense is an InputError naming ``source`` (where the record was read)."""
    if not record:
        return None, None
    try:
        holistic, fps = record.get("holistic"), record.get("fps")
        return (HolisticConfig(**holistic) if holistic else None), (float(fps) if fps else None)
    except (AttributeError, TypeError, ValueError, InputError) as err:
        raise InputError(source, f"corrupt pose record {dict(record)!r} ({err})") from err
