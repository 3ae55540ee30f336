"""Prompt templates (data, with golden-string tests) and their rendering in an LLM's chat template.

A sign stream appears in the user turn as ``<video_start>`` + one ``<sign>`` placeholder per
projected token + ``<video_end>``; the model replaces the placeholders (and the two delimiters,
whose embeddings are learned) with vectors before the LLM sees the sequence. The wording follows
the original SignLLaVA prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..data.languages import Language, language
from ..data.tasks import Task

VIDEO_START, VIDEO_END, SIGN = "<video_start>", "<video_end>", "<sign>"
SPECIAL_TOKENS = (VIDEO_START, VIDEO_END, SIGN)

# Templates over a dataset's language pair (signllava.data.languages): the sign language's name and
# abbreviation, and the written language the translation is in
SYSTEM_TEMPLATE = (
    "You are an assistant specialized in {sign} ({abbreviation}). The video is given to you as one or "
    f"several streams of visual features; each stream is delimited by {VIDEO_START} and {VIDEO_END}."
)
TRANSLATE_TEMPLATE = "Translate the given {sign} video into {written}."
TRANSLATE_WITH_CONTEXT_TEMPLATE = (
    "Here are some preceding sentences as context: '{{context}}'. "
    "Translate the next sentence given by the {sign} video into {written}."
)


def _fill(template: str, lang: Language) -> str:
    return template.format(sign=lang.sign, abbreviation=lang.abbreviation, written=lang.written)


def system_prompt(lang: Language | None = None) -> str:
    """The system turn: names the sign language (every prompt kind, QA too, carries it)."""
    return _fill(SYSTEM_TEMPLATE, lang or language(None))


# the prompts of How2Sign's pair (American Sign Language into English), which every model before languages had
SYSTEM = system_prompt()
TRANSLATE = _fill(TRANSLATE_TEMPLATE, language(None))
TRANSLATE_WITH_CONTEXT = _fill(TRANSLATE_WITH_CONTEXT_TEMPLATE, language(None))

# The glosses a model's CTC head recognized in the streams, shown to the LLM when model.gloss_prompt is on
RECOGNIZED = "Signs recognized in the video: {glosses}."

# Used only when a tokenizer has no chat template of its own.
FALLBACK_CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{{ eos_token }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def stream_block(tokens_per_stream: Sequence[int]) -> str:
    """The placeholder text of the sign streams, in stream order."""
    return "".join(VIDEO_START + SIGN * n + VIDEO_END for n in tokens_per_stream)


def instruction(task: Task, lang: Language | None = None) -> str:
    """The user's request for a task: the translation instruction (with context) into ``lang``'s written
    language, or the question."""
    if task.question is not None:
        return task.question
    lang = lang or language(None)
    if task.context:
        return _fill(TRANSLATE_WITH_CONTEXT_TEMPLATE, lang).format(context=" ".join(task.context))
    return _fill(TRANSLATE_TEMPLATE, lang)


def recognized(glosses: Sequence[str]) -> str:
    """The line that shows the LLM the recognized glosses (``none`` when nothing was recognized)."""
    return RECOGNIZED.format(glosses=" ".join(glosses) or "none")


def messages(
    task: Task,
    tokens_per_stream: Sequence[int],
    glosses: Sequence[str] | None = None,
    lang: Language | None = None,
) -> list[dict[str, str]]:
    """Chat messages (system + user) for a task, without the answer; ``glosses`` (recognized in the
    streams) go on a line of their own between the streams and the request; ``lang``: the model's
    language pair (default: American Sign Language into English)."""
    hint = "" if glosses is None else recognized(glosses) + "\n"
    user = stream_block(tokens_per_stream) + "\n" + hint + instruction(task, lang)
    return [{"role": "system", "content": system_prompt(lang)}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class RenderedPrompt:
    prompt: str  # everything up to where the assistant's answer starts
    answer: str  # the answer followed by the template's end-of-turn text (what the model learns to say)


def render_prompt(
    tokenizer,
    task: Task,
    tokens_per_stream: Sequence[int],
    with_answer: bool = True,
    glosses: Sequence[str] | None = None,
    lang: Language | None = None,
) -> RenderedPrompt:
    """Render a task with the tokenizer's chat template (or the documented fallback).

    The answer part is taken as the difference between the conversation rendered with and without
    the assistant turn, so it ends with the template's own end-of-turn marker (``<|im_end|>`` for
    ChatML, ``<|eot_id|>`` for Llama 3) and generation learns to stop there.
    """
    msgs = messages(task, tokens_per_stream, glosses=glosses, lang=lang)
    template = getattr(tokenizer, "chat_template", None) or FALLBACK_CHAT_TEMPLATE
    prompt = tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True, chat_template=template)
    if not with_answer:
        return RenderedPrompt(prompt, "")
    full = tokenizer.apply_chat_template(
        [*msgs, {"role": "assistant", "content": task.answer}], tokenize=False, chat_template=template
    )
    if not full.startswith(prompt):  # a template that rewrites earlier turns: append answer + eos ourselves
        return RenderedPrompt(prompt, task.answer + (tokenizer.eos_token or ""))
    return RenderedPrompt(prompt, full[len(prompt) :])
