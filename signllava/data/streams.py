"""Where training and evaluation data come from: metadata files and one source per stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pose import provenance
from pose.errors import InputError, quoted

from .dataset import FeatureSource
from .how2sign import Sentence, check_metadata, read_manifest
from .jsalt import is_annotation, read_annotations
from .poses import sentence_features
from .tasks import ContextWindow, TaskWeights


@dataclass
class StreamInput:
    """One stream's features: a feature store (per clip or per full video) or a folder of .pose files."""

    store: str | None = None  # feature store root (stream name = the key), or a JSALT .json/.h5 index
    poses: str | None = None  # folder of .pose files (clips or full videos); the pose view is computed on load
    per_video_fps: float | None = None  # the store holds whole videos at this fps (cut by realigned times)

    def __post_init__(self):
        if (self.store is None) == (self.poses is None):
            raise InputError(None, "each data stream needs exactly one of store or poses")


@dataclass
class DataConfig:
    """Sentences, splits, streams and tasks for training and evaluation."""

    metadata: list[str] = field(default_factory=list)  # realigned .csv/.tsv, `data check` manifests, JSALT .json
    streams: dict[str, StreamInput] = field(default_factory=dict)
    train_split: str = "train"
    eval_split: str = "val"
    tasks: TaskWeights = field(default_factory=TaskWeights)
    context: ContextWindow = field(default_factory=ContextWindow)
    use_context: bool = True  # prelude + preceding sentences in the translation prompt
    paraphrase_rate: float = 0.0  # share of training translations that target a paraphrase column instead
    num_workers: int = 0  # DataLoader worker processes


def load_sentences(data: DataConfig, split: str) -> list[Sentence]:
    """The usable sentences of ``split`` from the configured metadata (checked as `data check` does)."""
    if not data.metadata:
        raise InputError(
            None, "config value data.metadata is empty: give realigned metadata files, a manifest or JSALT annotations"
        )
    sentences: list[Sentence] = []
    realigned = []
    annotated: dict[str, Path] = {}  # sentence name -> its JSALT annotation file
    for path in map(Path, data.metadata):
        if is_annotation(path):
            for s in read_annotations(path):
                if s.sentence_name in annotated:
                    raise InputError(path, f"clip {s.sentence_name} is also in {annotated[s.sentence_name]}")
                annotated[s.sentence_name] = path
                sentences.append(s)
        elif path.is_file() and _first_line(path).startswith("split\t"):
            sentences += read_manifest(path)
        else:
            realigned.append(path)
    if realigned:
        sentences += check_metadata(realigned).kept
    return [s for s in sentences if s.split == split]


def _first_line(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readline()


def build_streams(data: DataConfig, sentences: list[Sentence], model_config) -> dict[str, FeatureSource]:
    """A :class:`FeatureSource` for every stream the model uses."""
    missing = [name for name in model_config.streams if name not in data.streams]
    if missing:
        raise InputError(None, f"data.streams has no source for model stream(s) {', '.join(missing)}")
    sources = {}
    for name in model_config.streams:
        spec = data.streams[name]
        if spec.poses is not None:
            dim, fps = model_config.streams[name].dim, []
            clips = {
                s.sentence_name: f.astype(np.float16) for s, f in sentence_features(sentences, spec.poses, dim, fps)
            }
            sources[name] = FeatureSource(clips, poses=provenance.record_for(spec.poses, fps))
        else:
            from pretrain import open_features

            stream_dir = Path(spec.store) / name
            record = provenance.read_record(stream_dir) if stream_dir.is_dir() else None
            sources[name] = FeatureSource(open_features(spec.store, name), spec.per_video_fps, record)
            missing = [s for s in sentences if sources[name].key(s) is None]
            if missing:  # found now rather than by a training run hours in
                raise InputError(
                    spec.store,
                    f"stream {quoted(name)} has no features for {len(missing)} of the {len(sentences)} sentences of "
                    f"{', '.join(data.metadata)}, e.g. {_named(missing[0], spec.per_video_fps)}",
                )
        dim = model_config.streams[name].dim
        got = _dim_of(sources[name], sentences[0], name) if sentences else dim
        if got != dim:
            raise InputError(
                None, f"stream {quoted(name)}: the data has {got} values per frame, the model expects {dim}"
            )
    return sources


def _named(sentence: Sentence, per_video_fps: float | None) -> str:
    if per_video_fps is None:
        return f"clip {sentence.sentence_name}"
    return f"video {sentence.video_name} (clip {sentence.sentence_name})"


def _dim_of(source: FeatureSource, sentence: Sentence, name: str) -> int:
    return int(source.clip(sentence, name).shape[1])
