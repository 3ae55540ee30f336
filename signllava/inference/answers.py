"""How a QA question is answered: by the LLM's own generated answer, or from what the model reads.

The QA tasks' answers are functions of what was signed (:mod:`signllava.data.tasks`): a word is
"present" when it is a word of the reference (or of a paraphrase), a clip is "reversed" when its
frames run backwards. A small frozen LLM asked "Is the sign 'party' present?" answers from its
language prior far more than from the sign tokens, and can contradict its own translation of the
same clip. So, per task (:class:`AnswerConfig`):

* ``sign_present`` / ``signs_present`` ``translation``: "yes" when the word is a word of the
  model's own translation of the clip, the task's definition applied to the model's reading of it
  (``ask`` uses the translation ``translate`` shows, so the two never disagree);
* ``reversed`` ``contrast``: the LLM is asked the trained question about the clip and about the
  clip played backwards, and the answer is "yes" when it finds the clip the more reversed of the
  two (the difference of its log-probabilities of "yes" and "no"): exactly one of a clip and its
  reversal runs forwards, and a relative judgement does not need a calibrated threshold;
* ``llm``: the LLM's generated answer to the question alone (the only method for the other tasks).

``evaluate`` measures QA through :func:`answer_tasks`, the function ``ask`` answers with.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from pose.errors import InputError, quoted

from ..data.tasks import WORD_RE, Task
from .questions import Question, parse_question

# the methods each task may be answered by, the default first
METHODS: dict[str, tuple[str, ...]] = {
    "sign_present": ("translation", "llm"),
    "signs_present": ("translation", "llm"),
    "reversed": ("contrast", "llm"),
    "is_question": ("llm",),
    "first_word": ("llm",),
}
# translations are decoded as ``translate`` decodes them: no 3-gram repeated within the answer
NO_REPEAT_NGRAM = 3


@dataclass
class AnswerConfig:
    """How each QA task is answered (:data:`METHODS`)."""

    sign_present: str = "translation"  # translation: the word is a word of the model's translation; llm: its answer
    signs_present: str = "translation"  # the same, word by word
    reversed: str = "contrast"  # contrast: the clip against itself played backwards; llm: the clip alone
    num_beams: int = 5  # beam size of the translations the word questions are answered from (translate's default)

    def __post_init__(self):
        for task in ("sign_present", "signs_present", "reversed"):
            if getattr(self, task) not in METHODS[task]:
                raise InputError(
                    None,
                    f"config value {task}={quoted(getattr(self, task))} is invalid: choose {', '.join(METHODS[task])}",
                )
        if self.num_beams < 1:
            raise InputError(None, f"config value num_beams={quoted(self.num_beams)} must be >= 1")

    def method(self, task: str) -> str:
        return getattr(self, task, "llm")


def _words(text: str) -> list[str]:
    """Lower-case words, as the tasks split a reference (:func:`signllava.data.tasks.content_words`)."""
    return [w.strip("'-") for w in WORD_RE.findall(text.lower())]


def word_in(word: str, text: str) -> bool:
    """Whether ``word`` (one word or a phrase such as "last week") is among the words of ``text``."""
    asked, words = _words(word), _words(text)
    return bool(asked) and any(words[i : i + len(asked)] == asked for i in range(len(words) - len(asked) + 1))


def from_translation(question: Question, translation: str) -> str:
    """The answer to a word question read off a translation: "yes"/"no" per asked word, in order."""
    return ", ".join("yes" if word_in(w, translation) else "no" for w in question.words)


def decode(model, tasks: Sequence[Task], streams, masks, num_beams: int, max_new_tokens: int) -> list[str]:
    """The model's answers to ``tasks``, decoded as ``translate`` decodes: no 3-gram repeated."""
    with warnings.catch_warnings():  # the n-gram block is meant for the answer only, as transformers warns
        warnings.filterwarnings("ignore", message=".*no_repeat_ngram_size")
        return model.generate(
            tasks,
            streams,
            masks,
            num_beams=num_beams,
            max_new_tokens=max_new_tokens,
            no_repeat_ngram_size=NO_REPEAT_NGRAM,
        )


def translate_clips(model, names: Sequence[str], streams, masks, num_beams: int, max_new_tokens: int = 100) -> list:
    """Each clip's translation without context, decoded as ``translate`` decodes a clip."""
    return decode(model, [Task(name, "translate", "") for name in names], streams, masks, num_beams, max_new_tokens)


def flip_time(streams: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every clip of a right-padded batch played backwards (its valid frames reversed, padding kept last)."""
    out = {}
    for name, x in streams.items():  # (B, T, D)
        lengths = masks[name].sum(1)  # (B,)
        t = torch.arange(x.shape[1], device=x.device)
        index = torch.where(t[None] < lengths[:, None], lengths[:, None] - 1 - t[None], t[None])  # (B, T)
        out[name] = x.gather(1, index[..., None].expand_as(x))
    return out


@torch.no_grad()
def answer_logprobs(model, tasks: Sequence[Task], streams, masks) -> torch.Tensor:
    """``(B,)`` log-probability of each task's answer (all its tokens, end of turn included) given its prompt."""
    logits, targets = model.answer_logits(tasks, streams, masks)  # (B, K, V), (B, K); cross-attention read
    logp = logits.log_softmax(-1).gather(-1, targets.clamp(min=0)[..., None])[..., 0]  # (B, K)
    return (logp * (targets != -100)).sum(1)


def first_answer_logprobs(model, tasks: Sequence[Task], streams, masks) -> torch.Tensor:
    """``(B, V)`` log-probabilities of the first token of each task's answer, given its prompt (one pass)."""
    batch = model.encode(tasks, streams, masks, with_answer=True)
    first = (batch["labels"] != -100).int().argmax(1) - 1  # (B,) the position that predicts the answer's first token
    keep = first.unique()  # (K,) sorted
    logits = model.cached_llm.answer_logits(batch["input_ids"], batch["inputs_embeds"], batch["attention_mask"], keep)
    column = torch.searchsorted(keep, first)  # (B,) each row's position among the kept ones
    return logits[torch.arange(len(tasks)), column].log_softmax(-1)  # (B, V)


@torch.no_grad()
def yes_margin(model, tasks: Sequence[Task], streams, masks) -> torch.Tensor:
    """``(B,)`` log P("yes") - log P("no") of each yes/no question about its clip: from the answers' first
    tokens (answers are tokenized on their own, as training encodes them) where those differ, in one pass."""
    yes, no = (model.tokenizer(a, add_special_tokens=False)["input_ids"][0] for a in ("yes", "no"))
    if yes != no:
        logp = first_answer_logprobs(model, tasks, streams, masks)
        return logp[:, yes] - logp[:, no]
    yes = answer_logprobs(model, [_with_answer(t, "yes") for t in tasks], streams, masks)
    return yes - answer_logprobs(model, [_with_answer(t, "no") for t in tasks], streams, masks)


def _with_answer(task: Task, answer: str) -> Task:
    return Task(task.sentence, task.task, answer, task.question, task.context, task.reversed)


def contrast_reversed(model, tasks: Sequence[Task], streams, masks) -> list[str]:
    """ "yes" for each clip the LLM finds more reversed than the same clip played backwards. A clip
    asked about both ways round (as evaluation does) is scored once each way."""
    rows = {}  # (sentence, played backwards) -> the batch row that shows it
    for i, t in enumerate(tasks):
        rows.setdefault((t.sentence, t.reversed), i)
    shown = list(rows)
    backwards = [(name, not r) for name, r in shown if (name, not r) not in rows]
    s, m = _select(streams, masks, [rows[k] for k in shown])
    if backwards:  # the other way round of clips shown one way only (rows of the same batch: same length)
        b, bm = _select(streams, masks, [rows[name, not r] for name, r in backwards])
        b = flip_time(b, bm)
        s = {k: torch.cat([s[k], b[k]]) for k in s}
        m = {k: torch.cat([m[k], bm[k]]) for k in m}
    keys = shown + backwards
    # the question each clip is asked (its placeholder answer only marks where the answer starts)
    asked = [_with_answer(tasks[rows[k if k in rows else (k[0], not k[1])]], "yes") for k in keys]
    margins = dict(zip(keys, yes_margin(model, asked, s, m).tolist(), strict=True))
    return ["yes" if margins[t.sentence, t.reversed] > margins[t.sentence, not t.reversed] else "no" for t in tasks]


def _select(streams, masks, rows: list[int]):
    index = torch.tensor(rows, dtype=torch.long)
    return {k: v[index] for k, v in streams.items()}, {k: v[index] for k, v in masks.items()}


def answer_tasks(
    model, tasks: Sequence[Task], streams, masks, config: AnswerConfig, max_new_tokens: int = 16
) -> list[str]:
    """Answers to QA tasks about a batch of clips (each as its task shows it: a reversed task's clip
    already played backwards), each task by its :class:`AnswerConfig` method; ``max_new_tokens``
    bounds the LLM's generated answers."""
    out: list[str | None] = [None] * len(tasks)
    groups: dict[str, list[int]] = {}
    for i, task in enumerate(tasks):
        groups.setdefault(config.method(task.task), []).append(i)
    for method, rows in groups.items():
        chunk = [tasks[i] for i in rows]
        s, m = _select(streams, masks, rows)
        if method == "translation":  # each clip translated once, however many questions ask about it
            clips = list(dict.fromkeys((t.sentence, t.reversed) for t in chunk))
            first = [next(j for j, t in enumerate(chunk) if (t.sentence, t.reversed) == c) for c in clips]
            read = translate_clips(model, [c[0] for c in clips], *_select(s, m, first), config.num_beams)
            texts = dict(zip(clips, read, strict=True))
            answers = [from_translation(_question(t), texts[t.sentence, t.reversed]) for t in chunk]
        elif method == "contrast":
            answers = contrast_reversed(model, chunk, s, m)
        else:
            answers = model.generate(chunk, s, m, num_beams=1, max_new_tokens=max_new_tokens)
        for i, a in zip(rows, answers, strict=True):
            out[i] = a
    return out


def _question(task: Task) -> Question:
    question = parse_question(task.question or "")
    if question is None or question.task != task.task:
        raise InputError(None, f"task {task.sentence}: {quoted(task.question)} is not a {task.task} question")
    return question
