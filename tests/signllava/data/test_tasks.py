from __future__ import annotations

import json
import random

import pytest

from pose.errors import InputError
from signllava.data.how2sign import Sentence
from signllava.data.tasks import (
    QUESTIONS,
    ContextSource,
    ContextWindow,
    TaskBuilder,
    TaskWeights,
    content_words,
)


def video(vid: str, n: int) -> list[Sentence]:
    return [
        Sentence(vid, f"{vid}-1", f"{vid}_{i}", f"{vid}_{i}-1", i * 2.0, i * 2.0 + 1.5, f"{vid} sentence {i}.")
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "index,expected",
    [(0, []), (1, [0]), (2, [0, 1]), (3, [0, 1, 2]), (4, [0, 1, 2, 3]), (5, [0, 1, 3, 4]), (9, [0, 1, 7, 8])],
)
def test_context_window_prelude_and_preceding(index, expected):
    v = video("a", 10)
    assert ContextWindow(2, 2).names(v, index) == [v[i].sentence_name for i in expected]


def test_context_edges_and_sizes():
    v = video("a", 3)
    assert ContextWindow(0, 0).names(v, 2) == []
    assert ContextWindow(0, 5).names(v, 2) == [v[0].sentence_name, v[1].sentence_name]
    texts = ContextWindow(2, 2, max_chars=20).texts(v, 2, ContextSource.gold(v))
    assert texts == ("a sentence 1.",)  # the oldest is dropped first
    with pytest.raises(InputError, match="context sizes must be >= 0"):
        ContextWindow(-1, 2)


def test_context_does_not_cross_videos():
    sentences = video("a", 4) + video("b", 4)
    builder = TaskBuilder(sentences)
    task = builder.translation(sentences[5])  # b_1
    assert task.context == ("b sentence 0.",)
    assert task.answer == "b sentence 1." and task.question is None


def test_context_from_hypotheses_and_own_outputs(tmp_path):
    v = video("a", 3)
    tsv = tmp_path / "hyp.tsv"
    tsv.write_text("SENTENCE_NAME\thypothesis\na_0-1\tfirst guess\na_1-1\tsecond guess\n")
    builder = TaskBuilder(v, source=ContextSource.from_file(tsv))
    assert builder.translation(v[2]).context == ("first guess", "second guess")
    js = tmp_path / "hyp.json"
    js.write_text(json.dumps([{"sentence_name": "a_0-1", "hypothesis": "from json"}]))
    assert ContextSource.from_file(js).texts == {"a_0-1": "from json"}
    own = ContextSource()
    builder = TaskBuilder(v, source=own)
    assert builder.translation(v[1]).context == ()
    own.set("a_0-1", "model said this")
    assert builder.translation(v[1]).context == ("model said this",)
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(InputError, match="bad.json: not valid JSON"):
        ContextSource.from_file(bad)


def test_content_words():
    assert content_words("You have used waterproof mascara, now how do you remove it?") == [
        "used",
        "waterproof",
        "mascara",
        "remove",
    ]


def test_sign_present_labels_are_correct():
    sentences = [
        Sentence("v", "v-1", f"v_{i}", f"v_{i}", i, i + 1, t)
        for i, t in enumerate(
            ["The red apple fell.", "Dogs chase cats quickly.", "Paint the wall slowly.", "Remove waterproof mascara."]
        )
    ]
    builder = TaskBuilder(sentences, seed=3)
    rng = random.Random(0)
    seen = set()
    for _ in range(200):
        s = rng.choice(sentences)
        task = builder.make(s, "sign_present", rng)
        word = task.question.split("'")[1]
        assert task.answer == ("yes" if word in content_words(s.text) else "no")
        seen.add(task.answer)
        multi = builder.make(s, "signs_present", rng)
        words = [w.strip("'") for w in multi.question.split(" present?")[0].removeprefix("Are the signs ").split(", ")]
        answers = multi.answer.split(", ")
        assert len(words) == len(answers) == 3
        assert all(a == ("yes" if w in content_words(s.text) else "no") for w, a in zip(words, answers, strict=True))
    assert seen == {"yes", "no"}


ONLY_REVERSED = TaskWeights(translate=0, sign_present=0, signs_present=0, reversed=1.0)


def test_reversed_flag_matches_answer_and_sampling_is_deterministic():
    sentences = video("a", 6)
    builder = TaskBuilder(sentences, weights=ONLY_REVERSED, seed=1)
    tasks = [builder.sample(s, epoch=e) for s in sentences for e in range(5)]
    assert all(t.task == "reversed" and t.question == QUESTIONS["reversed"] for t in tasks)
    assert all(t.reversed == (t.answer == "yes") for t in tasks)
    assert {t.reversed for t in tasks} == {True, False}
    again = TaskBuilder(sentences, weights=ONLY_REVERSED, seed=1)
    assert tasks == [again.sample(s, epoch=e) for s in sentences for e in range(5)]


def test_weights_mix_and_validation():
    sentences = video("a", 50)
    builder = TaskBuilder(sentences, weights=TaskWeights(translate=1, sign_present=1, is_question=1), seed=0)
    kinds = {builder.sample(s).task for s in sentences}
    assert kinds == {"translate", "sign_present", "is_question"}
    with pytest.raises(InputError, match="task weights"):
        TaskWeights(translate=0, sign_present=0, signs_present=0, reversed=0)


def test_paraphrases_can_be_targets_of_word_questions():
    s = Sentence("v", "v-1", "v_0", "v_0", 0, 1, "The cat sleeps.", paraphrases=("A kitten naps.",))
    builder = TaskBuilder([s], vocabulary=["zebra"])
    words = {builder.make(s, "sign_present", random.Random(i)).question.split("'")[1] for i in range(60)}
    assert {"cat", "kitten"} <= words


def test_paraphrase_targets_for_translation():
    s = Sentence("v", "v-1", "v_0", "v_0", 0, 1, "The cat sleeps.", paraphrases=("A kitten naps.",))
    never = TaskBuilder([s], paraphrase_rate=0.0)
    always = TaskBuilder([s], paraphrase_rate=1.0)
    assert {never.make(s, "translate", random.Random(i)).answer for i in range(10)} == {"The cat sleeps."}
    assert {always.make(s, "translate", random.Random(i)).answer for i in range(10)} == {"A kitten naps."}
    assert always.translation(s).answer == "The cat sleeps."  # evaluation always uses the reference
