"""Training tasks built from sentences: translation with context, and question answering.

Every sample is a :class:`Task`: which sentence (clip) it shows, whether the clip is played
backwards, the context sentences, the question (``None`` for translation) and the answer text.
The prompts themselves are rendered by the model side from these fields, so the same samples
serve any LLM's chat template.

Context follows the original SignLLaVA: the first ``prelude`` sentences of the video plus the
``preceding`` sentences right before the current one (defaults 2 and 2), never the sentence
itself. Its text comes from a :class:`ContextSource`: the gold references while training, a file
of precomputed hypotheses, or the model's own previous outputs during inference.

QA tasks (answers derivable from the reference alone, so they hold on How2Sign too):
  * ``sign_present``: "Is the sign '<word>' present?" -> "yes" / "no"; positives are content words
    of the reference (or of a paraphrase), negatives are drawn from a vocabulary of content words
    of other sentences, never from this sentence. Where the annotation gives a sentence keywords (the
    original's YouTube-ASL annotation JSON), its questions are the original's keyword questions: the
    positives are its keywords and the negatives come from the keywords of the split's other sentences,
    never a word or phrase its reference or a paraphrase holds;
  * ``signs_present``: several words at once -> comma-separated "yes"/"no" in the asked order;
  * ``reversed``: "Is the video reversed?" -> "yes" when the frames are flipped in time, else "no";
  * ``is_question``: "Is the signer asking a question?" -> "yes" when the reference ends with "?";
  * ``first_word``: "What is the first word of the translation?" -> that word, lower-cased.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pose.errors import InputError, quoted

from .how2sign import Sentence, by_video

TASKS = ("translate", "sign_present", "signs_present", "reversed", "is_question", "first_word")
# the tasks that ask about words of the (English) translation: content words are found with English rules
WORD_TASKS = ("sign_present", "signs_present", "first_word")
QUESTIONS = {
    "sign_present": "Is the sign '{word}' present?",
    "signs_present": "Are the signs {words} present? Answer yes or no for each, separated by commas.",
    "reversed": "Is the video reversed?",
    "is_question": "Is the signer asking a question?",
    "first_word": "What is the first word of the translation?",
}
STOPWORDS = frozenset(
    "a an the and or but if then so to of in on at by for with from into onto up down out over under about "
    "as is are was were be been being am do does did doing have has had having i you he she it we they me him "
    "her us them my your his its our their this that these those there here what which who whom whose when "
    "where why how all any each few more most other some such no nor not only own same than too very can will "
    "just should now also just let let's it's that's you're we're i'm don't can't going get got go one".split()
)
WORD_RE = re.compile(r"[a-z][a-z'\-]*")
QUOTES = "'\"‘’“”"  # the quotes a question may put around a word (`ask` takes them off)


def question_word(text: str) -> str:
    """A word or phrase as a question asks it and ``ask`` reads it back: lower case, single spaces, unquoted."""
    return " ".join(text.strip().strip(QUOTES).lower().split())


def keyword_forms(keywords: Sequence[str]) -> tuple[str, ...]:
    """The keywords a question can ask about, as it asks them (:func:`question_word`), each once: a keyword
    holding a comma, a question mark or the word "and" would be read back as other words than it is (``ask``
    splits a list of words at commas and "and"), so it is left out (an apostrophe inside is kept: "god's")."""
    forms = (question_word(k) for k in keywords)
    usable = (f for f in forms if f and not re.search(r"[,?]|\band\b", f))
    return tuple(dict.fromkeys(usable))


def content_words(text: str) -> list[str]:
    """Distinct content words of a sentence, in order (lower case, stopwords removed)."""
    seen, out = set(), []
    for w in WORD_RE.findall(text.lower()):
        w = w.strip("'-")
        if len(w) > 1 and w not in STOPWORDS and w not in seen:
            seen.add(w)
            out.append(w)
    return out


@dataclass(frozen=True)
class Task:
    """One training or evaluation sample."""

    sentence: str  # SENTENCE_NAME: the clip whose features are shown
    task: str  # one of TASKS
    answer: str  # the target text
    question: str | None = None  # None for translation
    context: tuple[str, ...] = ()  # context sentences (prelude + preceding), oldest first
    reversed: bool = False  # frames flipped in time


@dataclass
class TaskWeights:
    """Relative sampling weights of the tasks (translation is the main task)."""

    translate: float = 1.0
    sign_present: float = 0.15
    signs_present: float = 0.1
    reversed: float = 0.05
    is_question: float = 0.0
    first_word: float = 0.0

    def without_word_tasks(self, written: str) -> list[str]:
        """Stop drawing :data:`WORD_TASKS` (for data whose translations are in ``written``, not English);
        the ones that had weight, to say so."""
        dropped = [t for t in WORD_TASKS if getattr(self, t) > 0]
        for t in dropped:
            setattr(self, t, 0.0)
        return dropped

    def __post_init__(self):
        values = [getattr(self, t) for t in TASKS]
        if any(v < 0 for v in values) or sum(values) <= 0:
            raise InputError(
                None, f"task weights must be >= 0 and not all 0, got {dict(zip(TASKS, values, strict=True))}"
            )

    def as_dict(self) -> dict[str, float]:
        return {t: getattr(self, t) for t in TASKS}


class ContextSource:
    """Text used as context for each sentence: gold references, hypotheses, or outputs so far."""

    def __init__(self, texts: Mapping[str, str] | None = None):
        self.texts: dict[str, str] = dict(texts or {})

    @classmethod
    def gold(cls, sentences: Sequence[Sentence]) -> ContextSource:
        return cls({s.sentence_name: s.text for s in sentences})

    @classmethod
    def from_file(cls, path: str | Path) -> ContextSource:
        """Hypotheses from a TSV (``SENTENCE_NAME<TAB>text``, optional header) or a JSON object
        / list of ``{"sentence_name"|"SENTENCE_NAME", "hypothesis"|"text"}`` records."""
        import json

        path = Path(path)
        if not path.is_file():
            raise InputError(path, "context file not found")
        raw = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as err:
                raise InputError(path, f"not valid JSON ({err.msg} at line {err.lineno})") from err
            if isinstance(data, dict) and "hypotheses" in data:
                data = data["hypotheses"]
            if isinstance(data, dict):
                return cls({str(k): str(v) for k, v in data.items()})
            texts = {}
            for i, rec in enumerate(data):
                name = rec.get("sentence_name") or rec.get("SENTENCE_NAME") if isinstance(rec, dict) else None
                text = (rec.get("hypothesis") or rec.get("text")) if isinstance(rec, dict) else None
                if name is None or text is None:
                    raise InputError(path, f"record {i}: needs sentence_name and hypothesis (or text)")
                texts[name] = text
            return cls(texts)
        texts = {}
        for i, line in enumerate(raw.splitlines(), start=1):
            if not line.strip() or (i == 1 and line.upper().startswith("SENTENCE_NAME\t")):
                continue
            if "\t" not in line:
                raise InputError(path, f"line {i}: expected SENTENCE_NAME<TAB>text")
            name, text = line.split("\t", 1)
            texts[name.strip()] = text.strip()
        return cls(texts)

    def set(self, sentence_name: str, text: str) -> None:
        """Record an output (inference with the model's own previous outputs as context)."""
        self.texts[sentence_name] = text


@dataclass
class ContextWindow:
    """Which sentences form the context: the first ``prelude`` of the video + ``preceding`` before."""

    prelude: int = 2
    preceding: int = 2
    max_chars: int = 1000  # keep the newest context within this many characters

    def __post_init__(self):
        if self.prelude < 0 or self.preceding < 0 or self.max_chars < 0:
            raise InputError(None, f"context sizes must be >= 0, got {self}")

    def names(self, video: Sequence[Sentence], index: int) -> list[str]:
        """SENTENCE_NAMEs of the context of ``video[index]`` (time order, no duplicates)."""
        prelude = list(range(min(self.prelude, index)))
        preceding = list(range(max(0, index - self.preceding), index))
        chosen = sorted(set(prelude) | set(preceding))
        return [video[i].sentence_name for i in chosen]

    def texts(self, video: Sequence[Sentence], index: int, source: ContextSource) -> tuple[str, ...]:
        out = [source.texts[n] for n in self.names(video, index) if source.texts.get(n)]
        while out and sum(len(t) + 1 for t in out) > self.max_chars:
            out.pop(0)  # drop the oldest first: the sentences right before matter most
        return tuple(out)


@dataclass
class TaskBuilder:
    """Builds tasks for the sentences of one split (deterministic for a given seed)."""

    sentences: Sequence[Sentence]
    weights: TaskWeights = field(default_factory=TaskWeights)
    window: ContextWindow = field(default_factory=ContextWindow)
    source: ContextSource | None = None  # default: gold references
    vocabulary: Sequence[str] | None = None  # negatives for sign_present; default: all content words
    words_per_question: int = 3
    paraphrase_rate: float = 0.0  # share of sampled translations whose target is a paraphrase (when there is one)
    seed: int = 0

    def __post_init__(self):
        self.source = self.source or ContextSource.gold(self.sentences)
        self._videos = by_video(self.sentences)
        self._position = {s.sentence_name: (s.video_id, i) for v in self._videos.values() for i, s in enumerate(v)}
        if self.vocabulary is None:
            vocab = {w for s in self.sentences for w in content_words(s.text)}
            self.vocabulary = sorted(vocab)
        # the original's keyword questions, for the sentences whose annotation gives keywords
        self.keywords = {s.sentence_name: k for s in self.sentences if (k := keyword_forms(s.keywords))}
        self.keyword_vocabulary = sorted({k for ks in self.keywords.values() for k in ks})

    def asks_keywords(self, sentence: Sentence) -> bool:
        """Whether the word questions about ``sentence`` ask about its keywords (else about its content words)."""
        return sentence.sentence_name in self.keywords

    def context(self, sentence: Sentence) -> tuple[str, ...]:
        video_id, index = self._position[sentence.sentence_name]
        return self.window.texts(self._videos[video_id], index, self.source)

    def translation(self, sentence: Sentence) -> Task:
        return Task(sentence.sentence_name, "translate", sentence.text, None, self.context(sentence))

    def sample(self, sentence: Sentence, epoch: int = 0) -> Task:
        """One task for ``sentence``, drawn by weight; the same (seed, epoch, sentence) gives the same task."""
        rng = random.Random(f"{self.seed}:{epoch}:{sentence.sentence_name}")
        weights = self.weights.as_dict()
        task = rng.choices(list(weights), weights=list(weights.values()))[0]
        made = self.make(sentence, task, rng)
        return made if made is not None else self.translation(sentence)

    def _absent(self, rng: random.Random, own, k: int, vocab: Sequence[str] | None = None) -> list[str]:
        """Up to ``k`` distinct words of ``vocab`` (default: the content-word vocabulary) not in ``own``, drawn
        by rejection (the vocabulary of a real dataset has thousands of words: filtering it whole for every
        sample is the slow way)."""
        vocab, out = self.vocabulary if vocab is None else vocab, []
        for _ in range(20 * k):
            if len(out) == k or not vocab:
                break
            word = vocab[rng.randrange(len(vocab))]
            if word not in own and word not in out:
                out.append(word)
        if len(out) < k:  # small vocabularies: fall back to the full filter
            rest = [w for w in vocab if w not in own and w not in out]
            out += rng.sample(rest, min(k - len(out), len(rest)))
        return out

    def _word_choices(self, sentence: Sentence, rng: random.Random, k: int) -> tuple[list[str], list[str]]:
        """The words a word question about ``sentence`` may ask: present ones, and up to ``k`` absent ones.
        Its keywords and other sentences' keywords where it has keywords (a keyword its reference or a
        paraphrase holds, as a word or phrase, is never asked as absent); else content words of the reference
        or a paraphrase, and other sentences' content words."""
        texts = (sentence.text, *sentence.paraphrases)
        keywords = self.keywords.get(sentence.sentence_name)
        if keywords:
            return list(keywords), self._absent(rng, _Holds(texts, keywords), k, self.keyword_vocabulary)
        present = content_words(rng.choice(texts))
        # words of the reference and of every paraphrase are all "present" in what was signed
        own = {w for text in texts for w in content_words(text)}
        return present, self._absent(rng, own, k)

    def sign_present_pair(self, sentence: Sentence, rng: random.Random) -> list[Task]:
        """Two ``sign_present`` questions about ``sentence``, one answered "yes" (a content word of the
        reference or of a paraphrase; a keyword, where it has keywords) and one "no" (a vocabulary word of
        neither; another sentence's keyword), for a balanced measure; none when the sentence has no such
        word or the vocabulary no other word."""
        present, absent = self._word_choices(sentence, rng, 1)
        if not present or not absent:
            return []
        question = QUESTIONS["sign_present"]
        return [
            Task(sentence.sentence_name, "sign_present", "yes", question.format(word=rng.choice(present))),
            Task(sentence.sentence_name, "sign_present", "no", question.format(word=absent[0])),
        ]

    def make(self, sentence: Sentence, task: str, rng: random.Random) -> Task | None:
        """A task of the given kind, or None when the sentence cannot support it."""
        name = sentence.sentence_name
        if task == "translate":
            plain = self.translation(sentence)
            if sentence.paraphrases and rng.random() < self.paraphrase_rate:
                return Task(name, task, rng.choice(sentence.paraphrases), None, plain.context)
            return plain
        if task == "reversed":
            flipped = rng.random() < 0.5
            return Task(name, task, "yes" if flipped else "no", QUESTIONS[task], reversed=flipped)
        if task == "is_question":
            return Task(name, task, "yes" if sentence.text.rstrip().endswith("?") else "no", QUESTIONS[task])
        if task == "first_word":
            words = WORD_RE.findall(sentence.text.lower())
            return Task(name, task, words[0], QUESTIONS[task]) if words else None
        if task == "sign_present":
            present, absent = self._word_choices(sentence, rng, 1)
            if present and (not absent or rng.random() < 0.5):
                word, answer = rng.choice(present), "yes"
            elif absent:
                word, answer = absent[0], "no"
            else:
                return None
            return Task(name, task, answer, QUESTIONS[task].format(word=word))
        if task == "signs_present":
            present, absent = self._word_choices(sentence, rng, self.words_per_question)
            k = min(self.words_per_question, len(present) + len(absent))
            if k == 0:
                return None
            n_yes = min(len(present), rng.randint(0, k))
            asked = [(w, "yes") for w in rng.sample(present, n_yes)]
            asked += [(w, "no") for w in absent[: k - n_yes]]
            rng.shuffle(asked)
            words = ", ".join(f"'{w}'" for w, _ in asked)
            return Task(name, task, ", ".join(a for _, a in asked), QUESTIONS[task].format(words=words))
        raise InputError(None, f"unknown task {quoted(task)}; choose one of {', '.join(TASKS)}")


class _Holds:
    """``word in _Holds(texts, keywords)``: whether a keyword is one of ``keywords`` or stands, as whole words,
    in one of ``texts`` (a keyword of another sentence that this one says too is not absent from it)."""

    def __init__(self, texts: Sequence[str], keywords: Sequence[str]):
        self.text = "\n".join(question_word(t) for t in texts)
        self.keywords = set(keywords)

    def __contains__(self, word: str) -> bool:
        return word in self.keywords or re.search(rf"(?<!\w){re.escape(word)}(?!\w)", self.text) is not None
