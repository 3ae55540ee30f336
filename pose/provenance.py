"""How a dataset's poses were made, carried from extraction to the model that learns from them.

A model learns the landmarks of one MediaPipe setting at one frame rate; ``translate`` must extract
a new video's poses the same way. So the settings travel: ``extract-poses`` writes its config beside
the poses (``extract_poses*.yaml``, one per shard); ``extract-features`` copies the Holistic
settings it finds there, with the frame rate of the clips it read, into the feature store
(``STORE/STREAM/poses.json``); ``train`` records them in the checkpoint (``meta.json``: ``poses``);
and ``Translator.load`` extracts with them. The record is ``{"holistic": {...} or null, "fps": ...}``:
Holistic settings are null where no extraction config was found (e.g. generated synthsign poses),
and the frame rate is what the .pose files say (the median over the clips). The settings name the
pose backend (``legacy`` or ``tasks``; records made before there was a choice are legacy) and, for
``tasks``, the sha256 of the model bundle; poses extracted with the other backend than the model's
are a :class:`PoseBackendWarning`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

from .config import POSE_BACKENDS, HolisticConfig, backend_installed
from .errors import MESSAGE, InputError, excerpt, quoted
from .io import atomic_output

EXTRACT_CONFIGS = "extract_poses*.yaml"  # what `signllava extract-poses` writes beside its output
RECORD = "poses.json"  # in a feature store's stream folder
RECORDED_BEFORE_BACKENDS = "legacy"  # the one backend there was before the choice existed


class PoseBackendWarning(UserWarning):
    """A model's new poses are made by another pose backend than its training poses were."""


def holistic_from_record(holistic: Mapping) -> HolisticConfig:
    """Recorded Holistic settings as a config; a record without a backend is the legacy graph's."""
    return HolisticConfig(**{"backend": RECORDED_BEFORE_BACKENDS, **holistic})


def warn_other_backend(recorded: HolisticConfig | None, used: HolisticConfig | None, why: str = "") -> None:
    """Warn when poses for a model are made by another backend than its training poses were."""
    if recorded is None or used is None or recorded.backend == used.backend:
        return
    warnings.warn(
        f"the model learned from poses of the {recorded.backend} MediaPipe backend but gets {used.backend} "
        f"poses{why} (their landmarks differ by about a pixel; its output may differ slightly)",
        PoseBackendWarning,
        stacklevel=3,
    )


def recorded_holistic(folder: str | os.PathLike) -> dict | None:
    """The Holistic settings ``extract-poses`` recorded in ``folder`` (one config per shard), or None
    when it recorded none. Shards that disagree are a warning and None: the settings are unknown."""
    import yaml

    found = {}
    for path in sorted(Path(folder).glob(EXTRACT_CONFIGS)):
        try:
            holistic = (yaml.safe_load(path.read_text()) or {}).get("holistic") or {}
            found[path.name] = dataclasses.asdict(holistic_from_record(holistic))
        except (OSError, yaml.YAMLError, TypeError, AttributeError, InputError) as err:
            raise InputError(path, f"unreadable extraction config ({excerpt(err, MESSAGE)})") from err
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
        raise InputError(path, f"corrupt pose record ({excerpt(err, MESSAGE)})") from err
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
    a record that makes no sense is an InputError naming ``source`` (where the record was read).
    Where the recorded backend is not installed but the other one is, the other one is used, with a
    :class:`PoseBackendWarning`; a bundle path recorded on another machine that is not here is
    dropped (the recorded sha256 still says whether the bundle used here is the same one)."""
    if not record:
        return None, None
    try:
        holistic, fps = record.get("holistic"), record.get("fps")
        recorded = holistic_from_record(holistic) if holistic else None
        fps = float(fps) if fps else None
    except (AttributeError, TypeError, ValueError, InputError) as err:
        raise InputError(source, f"corrupt pose record {quoted(dict(record))} ({excerpt(err, MESSAGE)})") from err
    if recorded is None:
        return None, fps
    if recorded.task_bundle and not Path(recorded.task_bundle).expanduser().is_file():
        recorded = dataclasses.replace(recorded, task_bundle=None)
    other = next(b for b in POSE_BACKENDS[1:] if b != recorded.backend)
    if not backend_installed(recorded.backend) and backend_installed(other):
        try:
            used = dataclasses.replace(recorded, backend=other)
        except InputError as err:
            raise InputError(
                source,
                f"the model's poses were made with the {recorded.backend} backend, not installed here "
                f"({excerpt(err, MESSAGE)})",
            ) from err
        warn_other_backend(recorded, used, f": the {recorded.backend} backend is not installed here")
        return used, fps
    return recorded, fps
