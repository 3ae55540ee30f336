"""The samples every dataset reader produces: a :class:`Sentence` (one signed sentence of a video, or a whole
clip or frame folder), and a :class:`CheckReport` of the sentences kept and the rows dropped, with why."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sentence:
    """One row: a sentence of a How2Sign video with its realigned time span (seconds)."""

    video_id: str
    video_name: str
    sentence_id: str
    sentence_name: str  # unique key; the pre-cut clip's file name without extension
    start: float
    end: float
    text: str
    split: str = ""
    paraphrases: tuple[str, ...] = ()
    glosses: tuple[str, ...] = ()  # sign glosses in signing order, when the metadata has a GLOSSES column
    row: int = 0  # line of the row in its file (1 = header), for messages
    order: int = 0  # place in its video where the metadata orders clips but has no times (JSALT clip_order)
    keywords: tuple[str, ...] = ()  # words or phrases of the text the annotation marks (the original's QA asks them)

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Dropped:
    sentence_name: str
    reason: str
    row: int
    source: str


@dataclass
class CheckReport:
    """Kept sentences and dropped rows of one or more metadata files."""

    kept: list[Sentence] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    clipped: int = 0  # rows whose END ran past the video's end and were cut to it
    overlapping: int = 0  # kept rows that start before the row before them in their video ends (timed captions)
    read: Counter = field(default_factory=Counter)  # rows read per split
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)  # file -> columns we do not use
    dataset: str = ""  # the registered dataset the rows come from, where the files say (a manifest records it)

    def absorb(self, part: CheckReport, kept: bool = True) -> None:
        """Add another report's rows read, dropped rows and counts to this one (and its kept sentences, unless
        ``kept`` is False: a caller that checks them one by one)."""
        self.read.update(part.read)
        self.dropped += part.dropped
        self.clipped += part.clipped
        self.overlapping += part.overlapping
        self.ignored_columns |= part.ignored_columns
        if kept:
            self.kept += part.kept

    def summary(self) -> str:
        kept = Counter(s.split for s in self.kept)
        lines = [f"{'split':8s} {'rows':>7s} {'kept':>7s} {'dropped':>8s}"]
        for split in sorted(self.read):
            lines.append(f"{split:8s} {self.read[split]:7d} {kept[split]:7d} {self.read[split] - kept[split]:8d}")
        reasons = Counter(_reason_kind(d.reason) for d in self.dropped)
        lines += [f"dropped: {n} x {reason}" for reason, n in reasons.most_common()]
        keyworded = sum(1 for s in self.kept if s.keywords)
        if keyworded:
            lines.append(f"keywords: {keyworded} of {len(self.kept)} sentences have them (word questions ask them)")
        if self.overlapping:
            lines.append(f"overlap: {self.overlapping} rows kept start before the previous one ends (kept as timed)")
        if self.clipped:
            lines.append(f"clipped: {self.clipped} rows whose END ran past the end of their video")
        lines += [
            f"ignored: {path}: unknown column(s) {', '.join(cols)}" for path, cols in self.ignored_columns.items()
        ]
        return "\n".join(lines)


def _reason_kind(reason: str) -> str:
    return reason.split(":")[0]


def by_video(sentences: Iterable[Sentence]) -> dict[str, list[Sentence]]:
    """Sentences grouped per VIDEO_ID, each group in time order (in ``order`` where there are no times)."""
    groups: dict[str, list[Sentence]] = {}
    for s in sentences:
        groups.setdefault(s.video_id, []).append(s)
    for group in groups.values():
        group.sort(key=lambda s: (s.start, s.end, s.order, s.sentence_name))
    return groups
