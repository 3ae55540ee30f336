"""Question kinds: each QA task's recognizer comes from its own template, and a question of no
trained kind is refused with one line that lists what the model answers."""

from __future__ import annotations

import random

import pytest

from pose.errors import InputError
from signllava.data.tasks import QUESTIONS, TASKS, TaskBuilder, TaskWeights
from signllava.inference.questions import Question, answered, parse_question, recognize, trained_kinds
from tests.signllava.conftest import TEXTS


def test_every_questions_template_is_recognized_as_its_own_task():
    assert set(QUESTIONS) == set(TASKS) - {"translate"}
    for task, template in QUESTIONS.items():
        text = template.format(word="party", words="'party', 'store'")
        question = parse_question(text)
        assert question is not None and question.task == task, text
        assert question.text == text  # the wording shown to the LLM is the template's, word for word


def test_the_questions_training_asks_are_the_ones_recognized():
    """Every question the task builder makes parses back to its task and its words."""
    from signllava.data.how2sign import Sentence

    sentences = [Sentence(f"v{i}", f"v{i}-1", f"s{i}", f"c{i}", 0.0, 1.0, t) for i, t in enumerate(TEXTS)]
    builder = TaskBuilder(sentences, words_per_question=3)
    rng = random.Random(0)
    for s in sentences:
        for task in QUESTIONS:
            made = builder.make(s, task, rng)
            if made is None:
                continue
            question = parse_question(made.question)
            assert question is not None and question.task == task and question.text == made.question
        for made in builder.sign_present_pair(s, rng):
            assert parse_question(made.question).words[0] in made.question


@pytest.mark.parametrize(
    "text, task, words",
    [
        ("is the sign party present", "sign_present", ("party",)),
        ('Is the sign "PARTY" present?', "sign_present", ("party",)),
        ("  Is   the sign 'last week' present? ", "sign_present", ("last week",)),
        ("Is the video reversed", "reversed", ()),
        (
            "Are the signs 'dog', 'cat' and 'store' present? Answer yes or no for each, separated by commas.",
            "signs_present",
            ("dog", "cat", "store"),
        ),
    ],
)
def test_a_question_may_differ_in_case_spacing_quotes_and_punctuation(text, task, words):
    assert parse_question(text) == Question(task, words)


@pytest.mark.parametrize(
    "text",
    ["Tell me a joke", "Is the sign present?", "Is the sign '' present?", "Is the sign 'a', 'b' present?",
     "Is the signparty present?", "Is the video reversed? Tell me a joke"],
)  # fmt: skip
def test_other_text_is_no_question_of_a_trained_kind(text):
    assert parse_question(text) is None


def test_only_the_kinds_a_model_was_trained_on_are_answered():
    weights = TaskWeights(sign_present=0.15, signs_present=0.0, reversed=0.1)
    kinds = trained_kinds(weights.as_dict())
    assert kinds == ("sign_present", "reversed")
    assert recognize("Is the sign 'dog' present?", kinds) == Question("sign_present", ("dog",))
    with pytest.raises(InputError) as err:
        recognize("Tell me a joke", kinds)
    message = str(err.value)
    assert message.startswith('"Tell me a joke" is not a question the model was trained on; this model answers: ')
    assert "\"Is the sign '<word>' present?\"" in message and '"Is the video reversed?"' in message
    assert "first word" not in message and "\n" not in message
    with pytest.raises(InputError, match="is a question of kind is_question, which this model was never trained on"):
        recognize("Is the signer asking a question?", kinds)
    with pytest.raises(InputError, match="the question is empty"):
        recognize("  ", kinds)
    assert answered(()) == "this model answers no questions (it was trained on translation only)"
    assert trained_kinds(TaskWeights(translate=1, sign_present=0, signs_present=0, reversed=0).as_dict()) == ()


def test_a_long_question_is_quoted_by_its_start():
    with pytest.raises(InputError) as err:
        recognize("why " * 5000, ["sign_present"])
    assert str(err.value).startswith('"why why') and '…" is not a question' in str(err.value)
    assert len(str(err.value)) < 300
