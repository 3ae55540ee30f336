"""synthsign's per-sentence metadata: scoring the words of topic-dependent signs."""

from __future__ import annotations

from pose.synth import ambiguous_accuracy, load_metadata
from pose.synth.vocab import AMBIGUOUS


def test_ambiguous_accuracy(tiny):
    records = load_metadata(tiny)
    assert sum(len(r.ambiguous) for r in records) > 0
    right = {r.sentence_name: r.sentence for r in records}
    score = ambiguous_accuracy(records, right)
    assert score.accuracy == 1.0 and score.total == sum(len(r.ambiguous) for r in records)
    wrong = {}
    for r in records:  # the same sentence read under another topic
        text = r.sentence
        for amb in r.ambiguous:
            other = next(t for t in AMBIGUOUS[amb.gloss] if t != r.topic)
            text = text.replace(amb.word, AMBIGUOUS[amb.gloss][other] + "x")
        wrong[r.sentence_name] = text
    assert ambiguous_accuracy(records, wrong).accuracy == 0.0
