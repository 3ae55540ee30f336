"""The original JSALT 2024 SignLLaVA's annotation JSON as metadata: sentences, paraphrases, clip order.

One file per split (``annotation.train.json``, ``annotation.dev.json``: ``dev`` is our ``val``)::

    {video_id: {"clip_order": [clip names in signing order],
                clip_name: {"translation": "...", "paraphrases": ["...", ...], "keywords": ["...", ...]}, ...}, ...}

Each clip becomes a :class:`~signllava.data.how2sign.Sentence` named ``video/clip``
(:func:`pretrain.jsalt.clip_key`): the key its features have in the JSALT shards and in a store
imported from them, since clip names repeat across videos. Paraphrases are the sentence's
alternatives, as a How2Sign PARAPHRASE column's are. The file has no times: a clip's place in
``clip_order`` is the sentence's ``order``, which sets the video's order for context (start and end
are 0). Clips with an empty translation are left out, as `data check` drops empty sentences. A clip's
``keywords`` (optional: words or phrases of its translation) are the sentence's keywords: the original asks
its sign-present questions about them (:class:`~signllava.data.tasks.TaskBuilder`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pose.errors import InputError, quoted
from pretrain.jsalt import clip_key

from .how2sign import Sentence, fix_mojibake, split_of
from .registry import Dataset, register, untimed_report
from .samples import CheckReport

LAYOUT = (
    '{video_id: {"clip_order": [clip, ...], clip: {"translation": str, "paraphrases": [str, ...], '
    '"keywords": [str, ...]}}}'
)


def is_annotation(path: str | os.PathLike) -> bool:
    """Whether ``data.metadata`` entry ``path`` is a JSALT annotation file (a ``.json``)."""
    return Path(path).suffix.lower() == ".json"


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def read_annotations(path: str | os.PathLike, split: str | None = None) -> list[Sentence]:
    """The sentences of a JSALT annotation file, every video in ``clip_order``; ``split`` defaults to the
    one its name says (``train``/``val``/``test``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "annotation file not found")
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from err
    except json.JSONDecodeError as err:
        raise InputError(path, f"not valid JSON ({err.msg} at line {err.lineno})") from err
    if not isinstance(doc, dict) or not doc:
        raise InputError(path, f"not JSALT annotations: expected a non-empty object {LAYOUT}")
    split = split_of(path) if split is None else split
    sentences = []
    for video, clips in doc.items():
        where = f"video {video!r}"
        if not isinstance(clips, dict):
            raise InputError(path, f"not JSALT annotations: {where} is a {type(clips).__name__}, expected {LAYOUT}")
        order = clips.get("clip_order")
        if not _strings(order):
            raise InputError(path, f"{where}: needs a clip_order list of clip names (layout {LAYOUT})")
        listed = set(order)
        if len(listed) != len(order):
            twice = sorted({c for c in order if order.count(c) > 1})
            raise InputError(path, f"{where}: clip_order lists {', '.join(map(repr, twice))} more than once")
        unlisted = [c for c in clips if c != "clip_order" and c not in listed]
        if unlisted:
            raise InputError(path, f"{where}: clip {quoted(unlisted[0])} is not in its clip_order")
        for position, clip in enumerate(order):
            entry = clips.get(clip)
            if not isinstance(entry, dict) or not isinstance(entry.get("translation"), str):
                raise InputError(path, f"{where}, clip {quoted(clip)}: needs an object with a translation string")
            paraphrases = entry.get("paraphrases", [])
            if not _strings(paraphrases):
                raise InputError(path, f"{where}, clip {quoted(clip)}: paraphrases must be a list of strings")
            keywords = entry.get("keywords", [])
            if not _strings(keywords):
                raise InputError(path, f"{where}, clip {quoted(clip)}: keywords must be a list of strings")
            text = fix_mojibake(entry["translation"].strip())
            if not text:
                continue
            sentences.append(
                Sentence(
                    video_id=video,
                    video_name=video,
                    sentence_id=clip,
                    sentence_name=clip_key(video, clip),
                    start=0.0,
                    end=0.0,
                    text=text,
                    split=split,
                    paraphrases=tuple(fix_mojibake(p.strip()) for p in paraphrases if p.strip()),
                    order=position,
                    keywords=tuple(dict.fromkeys(k for w in keywords if (k := " ".join(fix_mojibake(w).split())))),
                )
            )
    return sentences


def _read(paths) -> CheckReport:
    report = CheckReport(dataset="jsalt")
    for path in paths:
        report.absorb(untimed_report(read_annotations(path), str(path)))
    return report


register(
    Dataset(
        name="jsalt",
        title="the original JSALT 2024 SignLLaVA's annotation JSON (How2Sign or YouTube-ASL clips)",
        language="asl-en",
        files=f"annotation.<split>.json: {LAYOUT}",
        recognize=lambda path: path.is_file() and is_annotation(path),
        read=_read,
        context="the clips before it in its video's clip_order",
    )
)
