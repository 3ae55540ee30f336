"""Where training and evaluation data come from: metadata files and one source per stream."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pose import provenance
from pose.errors import InputError, quoted

from .dataset import FeatureSource
from .datasets import dataset_named, read_metadata, recognize
from .how2sign import Sentence, manifest_dataset
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

    # a dataset's files (`signllava data list`): How2Sign realigned .csv/.tsv, `data check` manifests, JSALT
    # .json, PHOENIX-2014-T corpus files, CSL-Daily's video_map.txt or pickle with split_1.txt, caption files
    # (.vtt/.srt beside their videos, folders of them) or caption tables (OpenASL's TSV)
    metadata: list[str] = field(default_factory=list)
    dataset: str = ""  # the dataset of every metadata file (signllava.data.datasets); empty: recognized per file
    streams: dict[str, StreamInput] = field(default_factory=dict)
    train_split: str = "train"
    eval_split: str = "val"
    tasks: TaskWeights = field(default_factory=TaskWeights)
    context: ContextWindow = field(default_factory=ContextWindow)
    use_context: bool = True  # prelude + preceding sentences in the translation prompt
    paraphrase_rate: float = 0.0  # share of training translations that target a paraphrase column instead
    num_workers: int = 0  # DataLoader worker processes


def _metadata_report(data: DataConfig):
    """Every usable sentence of the configured metadata, read by its dataset's reader (:mod:`.datasets`; checked
    as `data check` checks them)."""
    if not data.metadata:
        raise InputError(
            None,
            "config value data.metadata is empty: give a dataset's files (`signllava data list` says which)",
        )
    return read_metadata(data.metadata, data.dataset)[0]


def load_sentences(data: DataConfig, split: str) -> list[Sentence]:
    """The usable sentences of ``split`` from the configured metadata (none is no error: ``data passages``)."""
    return [s for s in _metadata_report(data).kept if s.split == split]


def split_sentences(data: DataConfig, split: str) -> list[Sentence]:
    """The sentences of a split that must have some (what train and evaluate read): where it has none, one
    line that says which splits the data has, and why a file gives sentences of no split."""
    report = _metadata_report(data)
    chosen = [s for s in report.kept if s.split == split]
    if chosen:
        return chosen
    splits = Counter(s.split for s in report.kept)
    have = ", ".join(f"{quoted(k) if k else 'no split'} ({n})" for k, n in sorted(splits.items()))
    problem = f"no sentences in split {quoted(split)} of {data.metadata}"
    problem += f": its sentences are in {have}" if have else ": it has no usable sentence (`data check` says why)"
    if "" in splits:
        problem += "; a file whose name says no split gives sentences of none (annotation.train.json, ..._val.csv)"
    raise InputError(None, problem)


def data_language(data: DataConfig) -> str:
    """The language pair of the configured data (its dataset's), read from the files' headers only."""
    if data.dataset:
        return dataset_named(data.dataset).language
    pairs = set()
    for path in map(Path, data.metadata):
        dataset = recognize(path)
        if dataset.name == "manifest":  # a manifest records the dataset it came from
            dataset = dataset_named(manifest_dataset(path) or "manifest")
        pairs.add(dataset.language)
    if len(pairs) > 1:
        raise InputError(None, f"data.metadata mixes language pairs {', '.join(sorted(pairs))}: train one at a time")
    return pairs.pop() if pairs else ""


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
