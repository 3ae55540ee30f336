"""Which trained QA task a question is, and whether the loaded model was trained on it.

Each QA task's recognizer is made from the very template the task trains on
(:data:`signllava.data.tasks.QUESTIONS`), so the questions ``ask`` accepts cannot drift from the
ones the model learned: up to case, spacing, the quotes around a word and the closing punctuation,
a question must be the task's template. A question of no known kind, or of a kind the checkpoint's
task weights gave no weight, is refused with one line that lists what the model answers, instead
of a yes/no the model never learned to give.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pose.errors import InputError, excerpt

from ..data.tasks import QUESTIONS, QUOTES, TASKS, question_word

# what a placeholder shows a reader in the list of questions a model answers
PLACEHOLDERS = {"word": "<word>", "words": "'<word>', '<word>', ..."}


@dataclass(frozen=True)
class Question:
    """A recognized question: its task, the words it asks about, and its wording as trained."""

    task: str  # a QA task of signllava.data.tasks.TASKS
    words: tuple[str, ...] = ()  # sign_present / signs_present: the words asked about, lower case

    @property
    def text(self) -> str:
        """The question in exactly the wording the task trains on (what the LLM is shown)."""
        if self.task == "sign_present":
            return QUESTIONS[self.task].format(word=self.words[0])
        if self.task == "signs_present":
            return QUESTIONS[self.task].format(words=", ".join(f"'{w}'" for w in self.words))
        return QUESTIONS[self.task]


def _recognizer(template: str) -> re.Pattern:
    """A pattern for ``template``: its literal text word for word (any case and spacing), each
    placeholder a named group that may or may not be quoted, the closing ``?`` or ``.`` optional."""
    pieces = list(string.Formatter().parse(template))
    parts = []
    for i, (literal, name, _, _) in enumerate(pieces):
        if i > 0 and pieces[i - 1][1] is not None:  # the quotes around a placeholder belong to it
            literal = literal.lstrip(QUOTES)
        if name is not None:
            literal = literal.rstrip(QUOTES)
        words = literal.split()
        text = r"\s+".join(re.escape(w) for w in words)
        parts.append((r"\s+" if literal[:1].isspace() else "") + text + (r"\s+" if literal[-1:].isspace() else ""))
        if name is not None:  # its quotes, if any, are taken off the words it holds (_words)
            parts.append(f"(?P<{name}>[^?]+?)")
    pattern = "".join(parts)
    if pattern.endswith((r"\?", r"\.")):
        pattern = pattern[:-2] + "[?.]?"
    return re.compile(rf"\s*{pattern}\s*", re.IGNORECASE)


# one recognizer per QA task, from its own template
RECOGNIZERS: dict[str, re.Pattern] = {task: _recognizer(template) for task, template in QUESTIONS.items()}


def _words(text: str) -> tuple[str, ...]:
    """The words of a placeholder's text: split at commas and a last "and", unquoted, lower case."""
    pieces = re.split(r",|\band\b", text)
    return tuple(w for p in pieces if (w := question_word(p)))


def parse_question(text: str) -> Question | None:
    """The task a question is (and the words it asks about), or None when it is none of them."""
    for task, pattern in RECOGNIZERS.items():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        words = tuple(w for group in match.groupdict().values() for w in _words(group))
        if match.groupdict() and not words:
            continue
        if task == "sign_present" and len(words) != 1:
            continue
        return Question(task, words)
    return None


def trained_kinds(weights: Mapping[str, float]) -> tuple[str, ...]:
    """The QA tasks a model was trained on: those its training config's task weights gave weight."""
    return tuple(t for t in TASKS if t in QUESTIONS and weights.get(t, 0) > 0)


def example(task: str) -> str:
    """A task's question with its placeholders shown, as listed to a user."""
    return QUESTIONS[task].format(**{k: v for k, v in PLACEHOLDERS.items() if "{" + k + "}" in QUESTIONS[task]})


def answered(kinds: Sequence[str]) -> str:
    """What a model with these trained QA tasks answers, in words."""
    if not kinds:
        return "this model answers no questions (it was trained on translation only)"
    return "this model answers: " + "; ".join(f'"{example(t)}"' for t in kinds)


def recognize(text: str, kinds: Sequence[str]) -> Question:
    """The question as one of ``kinds`` (the loaded model's trained QA tasks); a question of no known
    kind, or of a kind the model was never trained on, raises an :class:`InputError` that says so."""
    shown = excerpt(text)  # what the user asked, as the error quotes it
    if not shown:
        raise InputError(None, "the question is empty")
    question = parse_question(text)
    if question is None:
        raise InputError(None, f'"{shown}" is not a question the model was trained on; {answered(kinds)}')
    if question.task not in kinds:
        kind = f"a question of kind {question.task}, which this model was never trained on"
        raise InputError(None, f'"{shown}" is {kind}; {answered(kinds)}')
    return question
