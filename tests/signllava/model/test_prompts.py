"""Golden strings: the exact prompts each task renders to in the default LLM's chat template."""

from __future__ import annotations

import pytest

from signllava.data.tasks import QUESTIONS, Task
from signllava.model.prompts import SYSTEM, instruction, render_prompt, stream_block

SYS = "<|im_start|>system\n" + SYSTEM + "<|im_end|>\n"
STREAMS = "<video_start><sign><sign><video_end><video_start><sign><video_end>"


@pytest.fixture(scope="module")
def tokenizer(tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer_dir)


def test_system_prompt_text():
    assert SYSTEM == (
        "You are an assistant specialized in American Sign Language (ASL). The video is given to you as one or "
        "several streams of visual features; each stream is delimited by <video_start> and <video_end>."
    )


def test_translation_without_context(tokenizer):
    r = render_prompt(tokenizer, Task("s", "translate", "I went to the store yesterday."), [2, 1])
    assert r.prompt == (
        SYS + "<|im_start|>user\n" + STREAMS + "\n"
        "Translate the given American Sign Language video into English.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert r.answer == "I went to the store yesterday.<|im_end|>\n"


def test_translation_with_context(tokenizer):
    task = Task("s", "translate", "Then we ate.", context=("We went out.", "It rained."))
    r = render_prompt(tokenizer, task, [2, 1])
    assert r.prompt == (
        SYS + "<|im_start|>user\n" + STREAMS + "\n"
        "Here are some preceding sentences as context: 'We went out. It rained.'. "
        "Translate the next sentence given by the American Sign Language video into English."
        "<|im_end|>\n<|im_start|>assistant\n"
    )


@pytest.mark.parametrize(
    "task,question",
    [
        (
            Task("s", "sign_present", "yes", QUESTIONS["sign_present"].format(word="store")),
            "Is the sign 'store' present?",
        ),
        (
            Task("s", "signs_present", "yes, no", QUESTIONS["signs_present"].format(words="'store', 'cat'")),
            "Are the signs 'store', 'cat' present? Answer yes or no for each, separated by commas.",
        ),
        (Task("s", "reversed", "no", QUESTIONS["reversed"]), "Is the video reversed?"),
        (Task("s", "is_question", "no", QUESTIONS["is_question"]), "Is the signer asking a question?"),
        (Task("s", "first_word", "i", QUESTIONS["first_word"]), "What is the first word of the translation?"),
    ],
)
def test_qa_prompts(tokenizer, task, question):
    r = render_prompt(tokenizer, task, [1])
    assert instruction(task) == question
    assert r.prompt == (
        SYS + "<|im_start|>user\n<video_start><sign><video_end>\n" + question + "<|im_end|>\n<|im_start|>assistant\n"
    )
    assert r.answer == task.answer + "<|im_end|>\n"


def test_fallback_template_without_chat_template(tokenizer):
    tokenizer = type(tokenizer).from_pretrained(tokenizer.name_or_path)
    tokenizer.chat_template = None
    r = render_prompt(tokenizer, Task("s", "translate", "Hi."), [1])
    assert r.prompt.startswith("<|system|>\n" + SYSTEM + "<|im_end|>\n<|user|>\n<video_start><sign><video_end>\n")
    assert r.prompt.endswith("<|assistant|>\n") and r.answer == "Hi.<|im_end|>\n"


def test_recognized_glosses_line(tokenizer):
    task = Task("s", "translate", "They want to go to the party.")
    r = render_prompt(tokenizer, task, [2, 1], glosses=["PARTY", "THEY", "WANT", "GO"])
    assert r.prompt == (
        SYS + "<|im_start|>user\n" + STREAMS + "\n"
        "Signs recognized in the video: PARTY THEY WANT GO.\n"
        "Translate the given American Sign Language video into English.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert "Signs recognized in the video: none.\nTranslate" in render_prompt(tokenizer, task, [1], glosses=[]).prompt
    assert render_prompt(tokenizer, task, [2, 1], glosses=None).prompt == render_prompt(tokenizer, task, [2, 1]).prompt


def test_stream_block():
    assert stream_block([]) == "" and stream_block([3]) == "<video_start>" + "<sign>" * 3 + "<video_end>"


GERMAN = (
    "<|im_start|>system\nYou are an assistant specialized in German Sign Language (DGS). The video is given to "
    "you as one or several streams of visual features; each stream is delimited by <video_start> and "
    "<video_end>.<|im_end|>\n<|im_start|>user\n" + STREAMS + "\n"
)


def test_german_prompts_name_the_sign_language_and_ask_for_german(tokenizer):
    from signllava.data.languages import language

    dgs = language("dgs-de")
    task = Task("s", "translate", "regen und schnee .", context=("guten abend .",))
    assert render_prompt(tokenizer, task, [2, 1], lang=dgs).prompt == (
        GERMAN + "Here are some preceding sentences as context: 'guten abend .'. "
        "Translate the next sentence given by the German Sign Language video into German."
        "<|im_end|>\n<|im_start|>assistant\n"
    )
    alone = Task("s", "translate", "regen .")
    assert instruction(alone, dgs) == "Translate the given German Sign Language video into German."
    question = Task("s", "reversed", "no", QUESTIONS["reversed"])  # a question: the system turn names DGS
    assert render_prompt(tokenizer, question, [2, 1], lang=dgs).prompt == (
        GERMAN + "Is the video reversed?<|im_end|>\n<|im_start|>assistant\n"
    )


def test_chinese_prompts(tokenizer):
    from signllava.data.languages import language

    csl = language("csl-zh")
    assert instruction(Task("s", "translate", "你好"), csl) == (
        "Translate the given Chinese Sign Language video into Chinese."
    )
    system = render_prompt(tokenizer, Task("s", "translate", "你好"), [1], lang=csl).prompt.split("<|im_end|>")[0]
    assert system.endswith(
        "specialized in Chinese Sign Language (CSL). The video is given to you as one or several "
        "streams of visual features; each stream is delimited by <video_start> and <video_end>."
    )


def test_the_default_pair_renders_what_models_before_languages_learned(tokenizer):
    from signllava.data.languages import language

    task = Task("s", "translate", "Then we ate.", context=("We went out.",))
    assert render_prompt(tokenizer, task, [2, 1], lang=language("asl-en")) == render_prompt(tokenizer, task, [2, 1])
    assert render_prompt(tokenizer, task, [2, 1], lang=language("")) == render_prompt(tokenizer, task, [2, 1])


def test_an_unknown_language_pair_is_one_line():
    from pose.errors import InputError
    from signllava.data.languages import language
    from signllava.model.model import ModelConfig

    with pytest.raises(InputError, match="unknown language 'bsl-en': choose one of asl-en, dgs-de, csl-zh"):
        language("bsl-en")
    with pytest.raises(InputError, match="unknown language"):
        ModelConfig(language="xx")
