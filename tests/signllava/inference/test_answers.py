"""QA answer methods: word questions read off the model's translation (meaning what the task's
targets mean), the reversed question by contrasting a clip with itself played backwards."""

from __future__ import annotations

import random

import pytest
import torch

from pose.errors import InputError
from signllava.data.tasks import QUESTIONS, Task, TaskBuilder
from signllava.inference.answers import (
    AnswerConfig,
    answer_logprobs,
    answer_tasks,
    contrast_reversed,
    first_answer_logprobs,
    flip_time,
    from_translation,
    translate_clips,
    word_in,
    yes_margin,
)
from signllava.inference.questions import Question, parse_question
from tests.signllava.conftest import batch, make


def test_a_word_is_present_when_it_is_a_word_of_the_translation():
    text = "They want to go to the party last week."
    assert word_in("party", text) and word_in("PARTY", text) and word_in("go", text)  # a stopword too
    assert word_in("last week", text) and not word_in("week last", text)
    assert not word_in("parties", text) and not word_in("art", text) and not word_in("", text)
    assert word_in("don't", "I don't know.") and not word_in("do", "I don't know.")
    assert from_translation(Question("signs_present", ("party", "dog", "want")), text) == "yes, no, yes"


def test_reading_the_reference_gives_the_tasks_own_answers(synth):
    """The method means what the task means: applied to the reference itself, it answers every
    sign-present question training and evaluation make exactly as their targets say."""
    from pose.synth import load_metadata
    from signllava.data.how2sign import Sentence

    records = load_metadata(synth, "train") + load_metadata(synth, "test")
    sentences = [Sentence(r.video_id, r.video_name, r.sentence_id, r.sentence_name, r.start, r.end, r.sentence)
                 for r in records]  # fmt: skip
    builder = TaskBuilder(sentences, words_per_question=3)
    rng = random.Random(0)
    tasks = [t for s in sentences for t in builder.sign_present_pair(s, rng)]
    tasks += [t for s in sentences for name in ("sign_present", "signs_present") if (t := builder.make(s, name, rng))]
    assert {t.answer for t in tasks if t.task == "sign_present"} == {"yes", "no"}
    text = {s.sentence_name: s.text for s in sentences}
    for t in tasks:
        assert from_translation(parse_question(t.question), text[t.sentence]) == t.answer, t


def test_flip_time_reverses_each_clip_and_keeps_its_padding():
    x = torch.arange(2 * 4 * 1, dtype=torch.float32).reshape(2, 4, 1)
    mask = torch.tensor([[True, True, True, False], [True, True, True, True]])
    flipped = flip_time({"pose": x}, {"pose": mask})["pose"][..., 0]
    assert flipped.tolist() == [[2.0, 1.0, 0.0, 3.0], [7.0, 6.0, 5.0, 4.0]]
    again = flip_time({"pose": flip_time({"pose": x}, {"pose": mask})["pose"]}, {"pose": mask})["pose"]
    assert torch.equal(again, x)


def test_answer_logprobs_is_the_answers_log_likelihood(tiny_llm):
    model = make(tiny_llm).eval()
    tasks, streams, masks = batch(n=1)
    losses = model.losses(tasks, streams, masks)
    n_answer = int((model.encode(tasks, streams, masks)["labels"] != -100).sum())
    assert answer_logprobs(model, tasks, streams, masks).item() == pytest.approx(
        -losses.parts["lm"] * n_answer, rel=1e-4
    )


def test_the_first_answer_token_is_scored_as_the_llm_predicts_it_for_each_prompt_alone(tiny_llm):
    model = make(tiny_llm).eval()
    _, streams, masks = batch(n=3)  # clips of 5, 3 and 4 frames: prompts of different lengths in one batch
    tasks = [Task(f"s{i}", "reversed", answer, QUESTIONS["reversed"]) for i, answer in enumerate(("yes", "no", ""))]
    batched = first_answer_logprobs(model, tasks, streams, masks)
    for i, task in enumerate(tasks):
        one = {k: v[i : i + 1, : int(masks[k][i].sum())] for k, v in streams.items()}
        full = {k: torch.ones(v.shape[:2], dtype=torch.bool) for k, v in one.items()}
        prompt = model.encode([task], one, full, with_answer=False)
        alone = model.llm(inputs_embeds=prompt["inputs_embeds"]).logits[0, -1].float().log_softmax(-1)
        torch.testing.assert_close(batched[i], alone, atol=1e-4, rtol=1e-4)
    yes, no = (model.tokenizer(a, add_special_tokens=False)["input_ids"][0] for a in ("yes", "no"))
    torch.testing.assert_close(yes_margin(model, tasks, streams, masks), batched[:, yes] - batched[:, no])


def test_contrast_gives_a_clip_and_its_reversal_opposite_answers(tiny_llm):
    model = make(tiny_llm).eval()
    _, streams, masks = batch(n=3)
    tasks = [Task(f"s{i}", "reversed", "", QUESTIONS["reversed"]) for i in range(3)]
    shown = contrast_reversed(model, tasks, streams, masks)
    backwards = contrast_reversed(model, tasks, flip_time(streams, masks), masks)
    assert set(shown) <= {"yes", "no"} and all(a != b for a, b in zip(shown, backwards, strict=True))


def test_answer_tasks_answers_each_task_by_its_method_in_order(tiny_llm):
    model = make(tiny_llm).eval()
    _, streams, masks = batch(n=3)
    tasks = [
        Task("s0", "reversed", "", QUESTIONS["reversed"]),
        Task("s1", "sign_present", "", QUESTIONS["sign_present"].format(word="hello")),
        Task("s2", "signs_present", "", QUESTIONS["signs_present"].format(words="'a', 'b'")),
    ]
    config = AnswerConfig(num_beams=1)
    answers = answer_tasks(model, tasks, streams, masks, config)
    read = translate_clips(model, ["s0", "s1", "s2"], streams, masks, num_beams=1)
    assert (
        answers[0]
        == contrast_reversed(model, tasks[:1], *[{k: v[:1] for k, v in d.items()} for d in (streams, masks)])[0]
    )
    assert answers[1] == from_translation(Question("sign_present", ("hello",)), read[1])
    assert answers[2] == from_translation(Question("signs_present", ("a", "b")), read[2])
    llm = answer_tasks(model, tasks, streams, masks, AnswerConfig("llm", "llm", "llm"), max_new_tokens=3)
    assert llm == model.generate(tasks, streams, masks, num_beams=1, max_new_tokens=3)
    with pytest.raises(InputError, match="reversed='gloss' is invalid: choose contrast, llm"):
        AnswerConfig(reversed="gloss")


def test_the_default_model_answers_the_demo_clip_as_it_translates_it(tmp_path):
    """The issue's case: the held-out clip translated "They want to go to the party." (PARTY read) was
    answered "no" to "Is the sign 'party' present?"; the answer now comes from that translation."""
    import numpy as np
    from pose_format import Pose

    from pose.io import read_pose, write_pose
    from signllava.demo import heldout_document
    from signllava.inference.translator import Translator

    first = heldout_document(tmp_path / "s")[0]
    clip = tmp_path / "s" / "poses" / f"{first.sentence_name}.pose"
    pose = read_pose(clip)
    frames = np.arange(len(pose.body.data))[::-1]
    backwards = write_pose(Pose(pose.header, pose.body.select_frames(frames)), tmp_path / "backwards.pose")
    translator = Translator.load(None, "cpu")
    (segment,) = translator.translate(clip)
    assert segment.text == first.sentence == "They want to go to the party."
    assert [translator.ask(clip, f"Is the sign '{w}' present?") for w in ("party", "want", "store")] == [
        "yes",
        "yes",
        "no",
    ]
    assert [translator.ask(p, "Is the video reversed?") for p in (clip, backwards)] == ["no", "yes"]
