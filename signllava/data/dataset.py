"""The training Dataset: per-sentence feature streams + a task (translation or QA), and the collator.

A stream is any name (``pose``, ``sign2vec``, ``dino``, ``mae`` ...) with a source of per-frame
features ``(T, D)``. Features stored per sentence clip are read by SENTENCE_NAME (the original
JSALT layout keys them ``video/clip``, so a How2Sign row also finds them as ``VIDEO_ID/SENTENCE_NAME``
or ``VIDEO_NAME/SENTENCE_NAME``); features stored per full video are cut by the realigned times
(frames ``[round(start * fps), round(end * fps))``), so nothing is re-encoded. A sample shows
every stream of its sentence (flipped in time for the "reversed" task); the collator pads each
stream to the longest clip of the batch and returns a mask of real frames. Prompt rendering and
tokenization happen on the model side from the :class:`~signllava.data.tasks.Task` records, so one
Dataset serves any LLM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch.utils.data import Dataset

from pose.errors import InputError, quoted
from pose.features import frame_span
from pretrain.jsalt import clip_key

from .how2sign import Sentence
from .tasks import Task, TaskBuilder


class ClipStore(Protocol):
    """Anything that maps a name to a ``(T, D)`` array: a feature store, a dict, ..."""

    def __getitem__(self, name: str) -> np.ndarray: ...

    def __contains__(self, name: object) -> bool: ...


@dataclass
class FeatureSource:
    """Where one stream's features come from."""

    store: ClipStore
    per_video_fps: float | None = None  # set when the store holds whole videos (keyed by VIDEO_NAME)
    poses: dict | None = None  # how the poses behind the features were made (pose.provenance), if known

    def key(self, sentence: Sentence) -> str | None:
        """The store's name for the features of ``sentence`` (its clip, or its video when per video), or None."""
        if self.per_video_fps is not None:
            return sentence.video_name if sentence.video_name in self.store else None
        name = sentence.sentence_name
        for key in (name, clip_key(sentence.video_id, name), clip_key(sentence.video_name, name)):
            if key in self.store:
                return key
        return None

    def clip(self, sentence: Sentence, stream: str) -> np.ndarray:
        key = self.key(sentence)
        if self.per_video_fps is None:
            if key is None:
                raise InputError(None, f"stream {quoted(stream)} has no features for clip {sentence.sentence_name}")
            features = self.store[key]
        else:
            if key is None:
                video, clip = sentence.video_name, sentence.sentence_name
                raise InputError(None, f"stream {quoted(stream)} has no features for video {video} (clip {clip})")
            video = self.store[key]
            first, last = frame_span(self.per_video_fps, sentence.start, sentence.end, len(video))
            if last <= first:
                raise InputError(
                    None,
                    f"stream {quoted(stream)}: clip {sentence.sentence_name} "
                    f"({sentence.start}-{sentence.end} s) has no frames in video {key}",
                )
            features = video[first:last]
        if features.ndim != 2 or len(features) == 0:
            raise InputError(
                None, f"stream {quoted(stream)}: clip {key} features have shape {features.shape}, expected (T, D)"
            )
        return features


class SignDataset(Dataset):
    """One item per sentence: ``{"sentence", "task", "streams": {name: tensor (T, D)}}`` (float16 or 32).

    The task of an item is drawn from the builder's weights, deterministically per (seed, epoch,
    sentence); call :meth:`set_epoch` between epochs to draw new tasks.
    """

    def __init__(
        self,
        sentences: Sequence[Sentence],
        streams: Mapping[str, FeatureSource],
        builder: TaskBuilder | None = None,
        translation_only: bool = False,
    ):
        if not streams:
            raise InputError(None, "a dataset needs at least one feature stream")
        self.sentences = list(sentences)
        self.streams = dict(streams)
        self.builder = builder or TaskBuilder(self.sentences)
        self.translation_only = translation_only
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.sentences)

    def task(self, index: int) -> Task:
        sentence = self.sentences[index]
        if self.translation_only:
            return self.builder.translation(sentence)
        return self.builder.sample(sentence, self.epoch)

    def __getitem__(self, index: int) -> dict:
        sentence = self.sentences[index]
        task = self.task(index)
        streams = {}
        for name, source in self.streams.items():
            features = source.clip(sentence, name)  # (T, D), float16 from a feature store
            if features.dtype not in (np.float16, np.float32):
                features = features.astype(np.float32)
            if task.reversed:
                features = features[::-1]
            # kept in its stored precision: the model casts once per batch on its device
            streams[name] = torch.from_numpy(np.ascontiguousarray(features))
        glosses = sentence.glosses[::-1] if task.reversed else sentence.glosses  # in the order shown
        return {"sentence": sentence.sentence_name, "task": task, "streams": streams, "glosses": glosses}


@dataclass
class SignCollator:
    """Pads every stream to the longest clip in the batch (right padding with zeros).

    Returns ``{"sentences": [...], "tasks": [Task, ...], "streams": {name: (B, T, D)},
    "stream_mask": {name: (B, T) bool}, "glosses": [(gloss, ...), ...]}``; ``pad_to_multiple_of`` rounds T
    up (tensor-core friendly).
    """

    pad_to_multiple_of: int = 1

    def __call__(self, items: Sequence[dict]) -> dict:
        names = list(items[0]["streams"])
        streams, masks = {}, {}
        for name in names:
            tensors = [item["streams"][name] for item in items]
            longest = max(t.shape[0] for t in tensors)
            if self.pad_to_multiple_of > 1:
                longest = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
            dim = tensors[0].shape[1]
            batch = torch.zeros(len(items), longest, dim, dtype=tensors[0].dtype)  # (B, T, D)
            mask = torch.zeros(len(items), longest, dtype=torch.bool)  # (B, T)
            for i, t in enumerate(tensors):
                if t.shape[1] != dim:
                    raise InputError(
                        None,
                        f"stream {quoted(name)}: clip {items[i]['sentence']} has dim {t.shape[1]}, the batch has {dim}",
                    )
                batch[i, : t.shape[0]] = t
                mask[i, : t.shape[0]] = True
            streams[name], masks[name] = batch, mask
        return {
            "sentences": [item["sentence"] for item in items],
            "tasks": [item["task"] for item in items],
            "streams": streams,
            "stream_mask": masks,
            "glosses": [tuple(item.get("glosses", ())) for item in items],
        }
