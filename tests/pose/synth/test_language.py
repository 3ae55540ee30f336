"""synthsign's language: lexicon forms, grammar, held-out splits and topic-dependent signs."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from pose.errors import InputError
from pose.synth import AMBIGUOUS, TOPICS, SynthConfig, plan
from pose.synth.grammar import MAX_SIGNS, MIN_SIGNS, sample_sentence
from pose.synth.lexicon import LEXICON, LEXICON_SIGNS, Movement, Sign, check_lexicon
from pose.synth.metadata import words
from pose.synth.vocab import TOPIC_SIGN


def test_lexicon_size_and_forms_are_distinct():
    assert 40 <= len(LEXICON) <= 80
    check_lexicon()
    assert len({s.form() for s in LEXICON_SIGNS}) == len(LEXICON_SIGNS)
    twin = Sign("TWIN", LEXICON["GOOD"].shape, LEXICON["GOOD"].location, LEXICON["GOOD"].movement, "in")
    with pytest.raises(ValueError, match="same form"):
        check_lexicon((*LEXICON_SIGNS, twin))
    with pytest.raises(ValueError):
        Movement("spin")


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


def test_documents_name_their_topic_first_and_ambiguous_words_need_it():
    docs = plan(SynthConfig(size="small", seed=5))
    needs_context = 0
    by_glosses = defaultdict(set)
    for doc in docs:
        first = doc.sentences[0]
        assert TOPIC_SIGN[doc.topic] in first.glosses and first.template == "intro"
        for s in doc.sentences:
            assert s.topic == doc.topic
            by_glosses[s.glosses].add((doc.topic, s.english))
            for amb in s.ambiguous:
                assert amb.in_sentence == (TOPIC_SIGN[doc.topic] in s.glosses)
                needs_context += not amb.in_sentence
    assert needs_context > 50
    # the same gloss sequence reads differently in documents of different topics
    differing = [g for g, seen in by_glosses.items() if len({e for _, e in seen}) > 1]
    assert differing
    for g in differing:
        assert any(x in AMBIGUOUS for x in g)
        assert len({t for t, _ in by_glosses[g]}) > 1


def test_held_out_splits_have_unseen_gloss_sequences():
    docs = plan(SynthConfig(size="small", seed=2))
    train = {s.glosses for d in docs if d.split == "train" for s in d.sentences}
    for split in ("val", "test"):
        held = [s.glosses for d in docs if d.split == split for s in d.sentences]
        assert held and not set(held) & train
    topics = [d.topic for d in docs if d.split == "train"]
    assert {topics.count(t) for t in TOPICS} == {len(topics) // 4}  # balanced


def test_plan_is_deterministic_and_seed_dependent():
    a, b = plan(SynthConfig(seed=7)), plan(SynthConfig(seed=7))
    c = plan(SynthConfig(seed=8))
    assert [d.sentences for d in a] == [d.sentences for d in b]
    assert [d.sentences for d in a] != [d.sentences for d in c]
    # the train split does not depend on how large the held-out splits are
    bigger = plan(SynthConfig(seed=7, test_docs=5))
    assert [d.sentences for d in a if d.split == "train"] == [d.sentences for d in bigger if d.split == "train"]


@pytest.mark.parametrize(
    "kwargs",
    [{"size": "huge"}, {"seed": -1}, {"min_sentences": 5, "max_sentences": 4}, {"width": 10}, {"hand_drop_rate": 2}],
)
def test_config_validation(kwargs):
    with pytest.raises(InputError, match="synth"):
        SynthConfig(**kwargs)


def test_size_presets():
    counts = {size: sum(SynthConfig(size=size).doc_counts().values()) for size in ("tiny", "small", "medium", "large")}
    assert counts["tiny"] < counts["small"] < counts["medium"] < counts["large"]
    assert SynthConfig(size="small", test_docs=0).doc_counts()["test"] == 0


def test_extra_training_data_avoids_another_folders_held_out_sequences(tmp_path):
    held_out = plan(SynthConfig(size="small", seed=2))
    for split in ("val", "test"):
        lines = [json.dumps({"glosses": list(s.glosses)}) for d in held_out if d.split == split for s in d.sentences]
        (tmp_path / f"synthsign_{split}.jsonl").write_text("\n".join(lines) + "\n")
    avoided = {s.glosses for d in held_out if d.split != "train" for s in d.sentences}

    def train_glosses(**kwargs):
        docs = plan(SynthConfig(seed=3, train_docs=300, val_docs=0, test_docs=0, **kwargs))
        return {s.glosses for d in docs for s in d.sentences}

    assert train_glosses() & avoided  # without it, another seed's training data overlaps them
    assert not train_glosses(avoid_from=str(tmp_path)) & avoided
    (tmp_path / "synthsign_test.jsonl").write_text("not json\n")
    with pytest.raises(InputError, match="synthsign_test.jsonl.*line 1"):
        plan(SynthConfig(seed=3, avoid_from=str(tmp_path)))
    with pytest.raises(InputError, match="avoid_from"):
        SynthConfig(avoid_from=str(tmp_path / "missing"))
