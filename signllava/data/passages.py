"""Passages: consecutive sentences of a video joined into one longer training or evaluation segment.

A passage is an ordinary :class:`Sentence` row (a manifest writes it) whose time span runs from its
first sentence's start to its last's end and whose text is theirs joined; it has no pre-cut clip, so
its features are cut from the full video (``<VIDEO_NAME>.pose`` or a per-video feature store). This is
how long inputs (15 s to minutes of signing) are trained and scored as one segment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .how2sign import Sentence, by_video


@dataclass
class Passages:
    passages: list[Sentence] = field(default_factory=list)
    tails: int = 0  # videos whose last sentences spanned less than the length asked (left out)
    videos_too_short: int = 0  # videos with no passage at all

    def summary(self, seconds: float) -> str:
        counts = {}
        for p in self.passages:
            counts[p.split] = counts.get(p.split, 0) + 1
        spans = [p.duration for p in self.passages]
        per_split = " / ".join(f"{n} {split}" for split, n in sorted(counts.items()))
        text = f"{len(spans)} passages of >= {seconds:g} s ({per_split}; {min(spans):.1f}-{max(spans):.1f} s, "
        text += f"mean {sum(spans) / len(spans):.1f} s, {sum(len(p.text.split()) for p in self.passages)} words)"
        left = []
        if self.tails:
            left.append(f"the last sentences of {self.tails} videos (shorter than {seconds:g} s)")
        if self.videos_too_short:
            left.append(f"{self.videos_too_short} videos shorter than {seconds:g} s in all")
        return text + (f"; left out: {', '.join(left)}" if left else "")


def join_passages(sentences: Iterable[Sentence], seconds: float) -> Passages:
    """Each video's sentences, in time order, cut into consecutive passages of at least ``seconds``
    (from the first sentence's start to the last's end): a passage takes sentences until it is that
    long, so no sentence is in two passages and none is cut. A video's remaining sentences that do not
    reach ``seconds`` are left out (counted in ``tails``)."""
    out = Passages()
    sentences = list(sentences)
    # per split first: a passage never mixes held-out and training signing
    videos = [
        v
        for split in sorted({s.split for s in sentences})
        for v in by_video(s for s in sentences if s.split == split).values()
    ]
    for video in videos:
        run: list[Sentence] = []
        made = 0
        for s in video:
            run.append(s)
            if s.end - run[0].start >= seconds:
                out.passages.append(_joined(run, made))
                made += 1
                run = []
        if run and made:
            out.tails += 1
        elif not made:
            out.videos_too_short += 1
    return out


def _joined(run: list[Sentence], k: int) -> Sentence:
    first, last = run[0], run[-1]
    return Sentence(
        video_id=first.video_id,
        video_name=first.video_name,
        sentence_id=f"{first.sentence_id}-{last.sentence_id}" if len(run) > 1 else first.sentence_id,
        # not a clip's name, so the features are always cut from the full video by the span
        sentence_name=f"{first.video_name}_passage{k:03d}",
        start=first.start,
        end=last.end,
        text=" ".join(s.text.strip() for s in run),
        split=first.split,
        glosses=tuple(g for s in run for g in s.glosses),
    )
