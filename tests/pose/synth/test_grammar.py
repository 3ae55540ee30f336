"""synthsign's grammar: sentences of bounded length that use every sign, English that is not word for word
(time first in ASL, last in English), and topic-dependent signs whose words alone change with the topic."""

from __future__ import annotations

import numpy as np

from pose.synth import AMBIGUOUS, TOPICS
from pose.synth.grammar import MAX_SIGNS, MIN_SIGNS, sample_sentence
from pose.synth.lexicon import LEXICON
from pose.synth.metadata import words


def test_grammar_uses_every_sign_and_stays_in_length():
    rng = np.random.default_rng(0)
    used = set()
    for i in range(3000):
        s = sample_sentence(rng, TOPICS[i % 4], intro=i % 7 == 0)
        assert MIN_SIGNS <= len(s.glosses) <= MAX_SIGNS and len(s.face) == len(s.glosses)
        assert s.english[0].isupper() and s.english[-1] in ".?"
        used.update(s.glosses)
    assert used == set(LEXICON)


def test_english_is_not_word_for_word():
    rng = np.random.default_rng(3)
    sentences = [sample_sentence(rng, "sports") for _ in range(300)]
    timed = [s for s in sentences if s.glosses[0] == "YESTERDAY" and s.template in ("motion", "activity")]
    assert timed, "expected time-first sentences"
    for s in timed:  # time first in ASL, last in English, in the past tense
        assert s.english.endswith("yesterday.")
    questions = [s for s in sentences if s.template == "wh"]
    assert all(s.english.split()[0].lower() in {"where", "when", "what", "who", "why"} for s in questions)
    assert all(s.glosses[-1] in {"WHERE", "WHEN", "WHAT", "WHO", "WHY"} for s in questions)


def test_same_draws_under_two_topics_differ_only_in_ambiguous_words():
    found = 0
    for seed in range(40):
        a = sample_sentence(np.random.default_rng(seed), "sports")
        b = sample_sentence(np.random.default_rng(seed), "party")
        # random draws never depend on the topic: only a topic sign itself differs
        assert [{"SPORTS": "PARTY"}.get(g, g) for g in a.glosses] == list(b.glosses)
        if a.template == "intro":
            continue
        if not a.ambiguous:
            assert a.english == b.english
            continue
        found += 1
        assert a.english != b.english
        wa, wb = words(a.english), words(b.english)
        assert len(wa) == len(wb)
        positions = {x.word_index for x in a.ambiguous}
        assert {x.word_index for x in b.ambiguous} == positions
        for i, (x, y) in enumerate(zip(wa, wb, strict=True)):
            assert (x != y) == (i in positions)
        for amb in a.ambiguous:
            assert wa[amb.word_index] == amb.word.lower() and a.glosses[amb.gloss_index] == amb.gloss
            assert amb.word.startswith(AMBIGUOUS[amb.gloss]["sports"][:3])
    assert found >= 5
