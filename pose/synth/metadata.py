"""Reading a synthsign folder's sidecar metadata, and scoring translations on the ambiguous words."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import MESSAGE, InputError, excerpt, quoted
from .config import SPLITS

WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class AmbiguousWord:
    """A sign whose English word depends on the document's topic, and the word it has here."""

    gloss_index: int
    gloss: str
    word: str
    word_index: int  # position among the reference's words (punctuation stripped)
    in_sentence: bool  # the topic sign is in the same sentence (no context needed)


@dataclass(frozen=True)
class SynthRecord:
    """One sentence of a synthsign split, as written in ``synthsign_<split>.jsonl``."""

    video_id: str
    video_name: str
    sentence_id: str
    sentence_name: str
    split: str
    index: int  # position of the sentence in its document
    topic: str
    topic_sentence: int  # index of the document's sentence that names the topic
    template: str
    mood: str
    glosses: tuple[str, ...]
    sentence: str  # the English reference
    paraphrases: tuple[str, ...]
    ambiguous: tuple[AmbiguousWord, ...]
    face: tuple[str, ...]
    start: float
    end: float
    frames: int
    sign_frames: tuple[tuple[int, int], ...]  # per gloss, [start, end) frames within the clip

    @classmethod
    def from_json(cls, d: dict) -> SynthRecord:
        return cls(
            **{
                **d,
                "glosses": tuple(d["glosses"]),
                "paraphrases": tuple(d["paraphrases"]),
                "ambiguous": tuple(AmbiguousWord(**a) for a in d["ambiguous"]),
                "face": tuple(d["face"]),
                "start": float(d["start"]),
                "end": float(d["end"]),
                "sign_frames": tuple(tuple(x) for x in d["sign_frames"]),
            }
        )


def load_metadata(folder: str | os.PathLike, split: str | None = None) -> list[SynthRecord]:
    """The sentences of one split (or of all splits, in train, val, test order) of a synthsign folder."""
    folder = Path(folder)
    splits = SPLITS if split is None else (split,)
    if split is not None and split not in SPLITS:
        raise InputError(None, f"unknown split {quoted(split)}: expected one of {', '.join(SPLITS)}")
    records = []
    for s in splits:
        path = folder / f"synthsign_{s}.jsonl"
        if not path.is_file():
            raise InputError(path, "synthsign metadata not found (is this a synthsign folder?)")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                records.append(SynthRecord.from_json(json.loads(line)))
            except (ValueError, TypeError, KeyError) as err:
                raise InputError(path, f"line {n} is not a synthsign record ({excerpt(err, MESSAGE)})") from err
    return records


def load_manifest(folder: str | os.PathLike) -> dict:
    """``synthsign.json``: the recorded config, counts, lexicon and ambiguity table."""
    path = Path(folder) / "synthsign.json"
    if not path.is_file():
        raise InputError(path, "synthsign manifest not found")
    return json.loads(path.read_text(encoding="utf-8"))


def words(text: str) -> list[str]:
    """Lower-cased words without punctuation (how ambiguous words are matched)."""
    return WORD.findall(text.lower())


@dataclass(frozen=True)
class AmbiguityScore:
    """Word accuracy on the ambiguous signs."""

    correct: int
    total: int
    needs_context_correct: int  # over the words whose topic is set by an earlier sentence only
    needs_context_total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    @property
    def needs_context_accuracy(self) -> float:
        return self.needs_context_correct / self.needs_context_total if self.needs_context_total else float("nan")


def ambiguous_accuracy(records: Iterable[SynthRecord], hypotheses: Mapping[str, str]) -> AmbiguityScore:
    """Share of ambiguous words that a translation gets right, for the sentences in ``hypotheses``
    (SENTENCE_NAME -> translation). A word counts as right when it occurs in the hypothesis, so
    reordering is not punished. Compare a run with context against one without."""
    correct = total = ctx_correct = ctx_total = 0
    for rec in records:
        if rec.sentence_name not in hypotheses:
            continue
        hyp = set(words(hypotheses[rec.sentence_name]))
        for amb in rec.ambiguous:
            hit = amb.word.lower() in hyp
            correct += hit
            total += 1
            if not amb.in_sentence:
                ctx_correct += hit
                ctx_total += 1
    return AmbiguityScore(correct, total, ctx_correct, ctx_total)
