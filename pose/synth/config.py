"""Settings of a synthsign generation run (validated on construction)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import InputError, quoted

SPLITS = ("train", "val", "test")
# documents per split; a document holds min..max sentences (5.5 on average with the defaults)
SIZES: dict[str, tuple[int, int, int]] = {
    "tiny": (4, 2, 2),  # ~40 sentences: tests and demos, seconds
    "small": (60, 8, 8),  # ~400 sentences: CPU smoke training
    "medium": (320, 40, 40),  # ~2,200 sentences: a few minutes on 2 cores
    "large": (1500, 120, 120),  # ~9,500 sentences: GPU benchmarks
}
# fields that change how a run goes but not what it writes (left out of the recorded config)
RUNTIME_FIELDS = ("workers", "progress", "overwrite")


def _fail(name: str, value, expected: str) -> None:
    raise InputError(None, f"config value synth.{name}={quoted(value)} is invalid: expected {expected}")


@dataclass
class SynthConfig:
    """What to generate. The same fields (runtime fields aside) and seed give identical data."""

    size: str = "tiny"  # preset of document counts per split: tiny, small, medium or large
    seed: int = 0  # sentences, signers and motion all derive from it
    train_docs: int | None = None  # documents in the train split (None: from the size preset)
    val_docs: int | None = None
    test_docs: int | None = None
    min_sentences: int = 3  # sentences per document, drawn uniformly in [min, max]
    max_sentences: int = 8
    fps: float = 25.0
    width: int = 256  # frame size of the poses (pixels) and of the rendered videos
    height: int = 256
    render: bool = False  # also draw each sentence as videos/<SENTENCE_NAME>.mp4 (costs most of the time)
    documents: bool = True  # also write each document's full pose as poses_full/<VIDEO_NAME>.pose
    hand_drop_rate: float = 0.03  # share of signing frames where a hand detection is lost (in bursts)
    rest_drop_rate: float = 0.3  # share of frames with a hand at rest (low, by the hip) where it is lost
    jitter: float = 1.0  # landmark noise multiplier (0: clean landmarks)
    only_splits: list[str] | None = None  # write only these splits (what each split holds does not change)
    only_documents: int | None = None  # write only the first N documents of each split (a preview, same content)
    # another synthsign folder whose val and test gloss sequences no sentence here may have: more training
    # data (another seed, only_splits=[train]) for a model that is evaluated on that folder's held-out splits
    avoid_from: str | None = None
    workers: int = 1  # worker processes (0: one per CPU core); the output does not depend on it
    progress: bool = True  # tqdm progress bar
    overwrite: bool = False  # replace an existing non-empty output folder

    def __post_init__(self):
        if self.size not in SIZES:
            _fail("size", self.size, "one of " + ", ".join(SIZES))
        if not isinstance(self.seed, int) or self.seed < 0:
            _fail("seed", self.seed, "a non-negative integer")
        for split in SPLITS:
            n = getattr(self, f"{split}_docs")
            if n is not None and (not isinstance(n, int) or n < 0):
                _fail(f"{split}_docs", n, "a non-negative integer or null")
        if not 1 <= self.min_sentences <= self.max_sentences:
            _fail("min_sentences/max_sentences", (self.min_sentences, self.max_sentences), "1 <= min <= max")
        if not 1 <= self.fps <= 120:
            _fail("fps", self.fps, "a frame rate in [1, 120]")
        for name in ("width", "height"):
            if not 64 <= getattr(self, name) <= 4096:
                _fail(name, getattr(self, name), "a size in [64, 4096] pixels")
        for name in ("hand_drop_rate", "rest_drop_rate"):
            if not 0 <= getattr(self, name) <= 1:
                _fail(name, getattr(self, name), "a share in [0, 1]")
        if self.jitter < 0:
            _fail("jitter", self.jitter, "a non-negative number")
        if self.only_splits is not None and (not self.only_splits or set(self.only_splits) - set(SPLITS)):
            _fail("only_splits", self.only_splits, "null or a non-empty list of " + ", ".join(SPLITS))
        if self.only_documents is not None and self.only_documents < 1:
            _fail("only_documents", self.only_documents, "null or a positive number")
        if self.avoid_from is not None:
            for split in ("val", "test"):
                if not (Path(self.avoid_from) / f"synthsign_{split}.jsonl").is_file():
                    raise InputError(
                        Path(self.avoid_from), f"config value synth.avoid_from: no synthsign_{split}.jsonl there"
                    )
        if self.workers < 0:
            _fail("workers", self.workers, "0 (all cores) or a positive number")
        if sum(self.doc_counts().values()) == 0:
            _fail("train_docs/val_docs/test_docs", 0, "at least one document")

    def doc_counts(self) -> dict[str, int]:
        """Documents per split: the preset's, unless set explicitly."""
        preset = dict(zip(SPLITS, SIZES[self.size], strict=True))
        return {s: preset[s] if getattr(self, f"{s}_docs") is None else getattr(self, f"{s}_docs") for s in SPLITS}

    def recorded(self) -> dict:
        """The fields that determine the data (what synthsign.json records)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in RUNTIME_FIELDS}
