"""The synthsign language: ASL-like gloss order, deterministic English, and topic-dependent signs.

Glosses follow ASL habits: time first, topic (object or place) before the comment, the WH-sign
at the end, NOT after the verb, QM closing a yes/no question. The English reference reorders
(time last, subject first, do-support, tense from the time sign), so translation is never
word for word.

Ambiguity: every document has a topic (sports, party, school, restaurant) that its first
sentence names with a topic sign. Five signs (:data:`AMBIGUOUS`) translate to a topic-dependent
English word: LEADER is "coach" in a sports document and "host" at a party. A later sentence
holding one of them is only translatable with the document's earlier sentences as context.
Random draws never depend on the topic, so the same draws under two topics give the same
glosses and differently worded English.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .english import (
    Builder,
    aux,
    be,
    described_np,
    object_np,
    pick,
    place_np,
    subject_np,
    tense_of,
    time_sign,
    verb_forms,
    verb_phrase,
    verb_sign,
)
from .vocab import (
    ACTION,
    CONTRACTIONS,
    OBJECTS,
    PERSON_ADJ,
    TEMPLATE_WEIGHTS,
    TIMES,
    TOPIC_ADJ,
    TOPIC_EVENT,
    TOPIC_PLURAL,
    TOPIC_SIGN,
    TOPICS,
    VERBS,
)


@dataclass(frozen=True)
class Ambiguity:
    """One topic-dependent word of a sentence."""

    gloss_index: int  # position of the sign in the glosses
    gloss: str
    word: str  # the word as it appears in the English reference (e.g. "played")
    word_index: int  # position in the reference's words (split on spaces, punctuation stripped)
    in_sentence: bool  # the topic sign occurs in this very sentence (resolvable without context)


@dataclass(frozen=True)
class SynthSentence:
    """One sentence: glosses, English reference, and what the face does."""

    glosses: tuple[str, ...]
    english: str
    template: str
    topic: str
    ambiguous: tuple[Ambiguity, ...] = ()
    face: tuple[str, ...] = ()  # per gloss: "topic" (brows up), "neg" (head shake) or ""
    mood: str = "statement"  # statement, wh (brows down over the sentence) or yn (brows up)
    paraphrases: tuple[str, ...] = ()


# --- templates: each draws its choices from rng first, then writes glosses and English ----------


def _motion(rng, b: Builder) -> str:
    time, place, subj = time_sign(rng, 0.8), place_np(rng), subject_np(rng)
    verb, neg = pick(rng, ("GO", "COME")), rng.random() < 0.2
    b.sign_time(time)
    place.signs(b, "topic")
    subj.signs(b)
    verb_sign(b, verb, neg)
    subj.words(b)
    verb_phrase(b, verb, subj.person, tense_of(time, True), neg)
    b.say("to")
    place.words(b)
    b.say_time(time)
    return "statement"


def _object_topic(rng, b: Builder) -> str:
    verb = pick(rng, OBJECTS)
    obj, subj = object_np(rng, verb), subject_np(rng)
    time = time_sign(rng, 0.5) if verb in ACTION else None
    neg = rng.random() < 0.2
    b.sign_time(time)
    obj.signs(b, "topic")
    subj.signs(b)
    verb_sign(b, verb, neg)
    subj.words(b)
    verb_phrase(b, verb, subj.person, tense_of(time, True), neg)
    obj.words(b)
    b.say_time(time)
    return "statement"


def _adjective(rng, b: Builder) -> str:
    subj, adjectives = described_np(rng)
    adj, time, neg = pick(rng, adjectives), time_sign(rng, 0.5), rng.random() < 0.2
    b.sign_time(time)
    subj.signs(b)
    b.sign(adj, "neg" if neg else "")
    b.sign_not(neg)
    subj.words(b)
    b.say(be(subj.person, tense_of(time, False), neg) + " " + adjectives[adj])
    b.say_time(time)
    return "statement"


def _activity(rng, b: Builder) -> str:
    subj, verb = subject_np(rng), "ACTIVITY" if rng.random() < 0.7 else "WORK"
    time, neg = time_sign(rng, 0.7), rng.random() < 0.2
    b.sign_time(time)
    subj.signs(b)
    i = verb_sign(b, verb, neg)
    subj.words(b)
    verb_phrase(b, verb, subj.person, tense_of(time, True), neg, i if verb == "ACTIVITY" else None)
    b.say_time(time)
    return "statement"


def _person(rng, b: Builder) -> str:
    verb, subj, obj = pick(rng, ("MEET", "HELP", "KNOW")), subject_np(rng), subject_np(rng, people_only=True)
    while obj.glosses == subj.glosses:
        obj = subject_np(rng, people_only=True)
    time = time_sign(rng, 0.6) if verb in ACTION else None
    neg = rng.random() < 0.2
    b.sign_time(time)
    subj.signs(b)
    b.sign(verb, "neg" if neg else "")
    obj.signs(b)
    b.sign_not(neg)
    subj.words(b)
    verb_phrase(b, verb, subj.person, tense_of(time, True), neg)
    obj.words(b)
    b.say_time(time)
    return "statement"


def _wh(rng, b: Builder) -> str:
    kind = pick(rng, ("where", "when", "what", "who", "why"))
    if kind == "who":  # WHO is the subject: "Who went to the store?" / "Who likes the ball?"
        if rng.random() < 0.6:
            time, place, verb = time_sign(rng, 0.6), place_np(rng), pick(rng, ("GO", "COME"))
            b.sign_time(time)
            place.signs(b, "topic")
            b.sign(verb)
            b.sign("WHO")
            b.say("who")
            verb_phrase(b, verb, "3sg", tense_of(time, True), False)
            b.say("to")
            place.words(b)
            b.say_time(time)
        else:
            verb = pick(rng, ("LIKE", "WANT", "NEED"))
            obj = object_np(rng, verb)
            obj.signs(b, "topic")
            b.sign(verb)
            b.sign("WHO")
            b.say("who")
            verb_phrase(b, verb, "3sg", "present", False)
            obj.words(b)
        return "wh"
    subj = subject_np(rng)
    if kind == "why":
        adj = pick(rng, PERSON_ADJ)
        subj.signs(b)
        b.sign(adj)
        b.sign("WHY")
        b.say("why " + aux(subj.person, "present", copula=True))
        subj.words(b)
        b.say(PERSON_ADJ[adj])
        return "wh"
    verbs = {"where": ("GO", "WORK", "LIVE", "ACTIVITY"), "when": ("COME", "WORK", "ACTIVITY")}
    verbs["what"] = ("WANT", "LIKE", "NEED", "SEE", "BUY")
    verb = pick(rng, verbs[kind])
    time = time_sign(rng, 0.6) if verb in ACTION and kind != "when" else None
    b.sign_time(time)
    subj.signs(b)
    i = b.sign(verb)
    b.sign(kind.upper())
    tense = tense_of(time, True)
    b.say(kind + " " + aux(subj.person, tense))
    subj.words(b)
    b.say(verb_forms(verb, b.topic)[0], i if verb == "ACTIVITY" else None)
    b.say_time(time)
    return "wh"


def _yesno(rng, b: Builder) -> str:
    kind = rng.random()
    if kind < 0.45:
        verb = pick(rng, OBJECTS)
        subj, obj = subject_np(rng), object_np(rng, verb)
        time = time_sign(rng, 0.4) if verb in ACTION else None
        b.sign_time(time)
        subj.signs(b)
        b.sign(verb)
        obj.signs(b)
        b.say(aux(subj.person, tense_of(time, True)))
        subj.words(b)
        b.say(VERBS[verb].split()[0])
        obj.words(b)
    elif kind < 0.75:
        time, subj, place = time_sign(rng, 0.6), subject_np(rng), place_np(rng)
        b.sign_time(time)
        subj.signs(b)
        b.sign("GO")
        place.signs(b)
        b.say(aux(subj.person, tense_of(time, True)))
        subj.words(b)
        b.say("go to")
        place.words(b)
    else:
        subj, adjectives = described_np(rng)
        adj, time = pick(rng, adjectives), time_sign(rng, 0.4)
        tense = tense_of(time, False)
        b.sign_time(time)
        subj.signs(b)
        b.sign(adj)
        b.say(aux(subj.person, tense, copula=True))
        subj.words(b)
        b.say(("be " if tense == "future" else "") + adjectives[adj])
    b.sign("QM")
    b.say_time(time)
    return "yn"


def _intro(rng, b: Builder) -> str:
    """Names the document's topic with its topic sign (the only template that does)."""
    kind, topic = rng.random(), TOPIC_SIGN[b.topic]
    if kind < 0.25:  # "I met my friend at the party yesterday."
        time, subj, obj = time_sign(rng, 0.7), subject_np(rng), subject_np(rng, people_only=True)
        while obj.glosses == subj.glosses:
            obj = subject_np(rng, people_only=True)
        b.sign_time(time)
        b.sign(topic, "topic")
        subj.signs(b)
        b.sign("MEET")
        obj.signs(b)
        subj.words(b)
        verb_phrase(b, "MEET", subj.person, tense_of(time, True), False)
        obj.words(b)
        b.say("at " + TOPIC_EVENT[b.topic])
        b.say_time(time)
    elif kind < 0.35:  # "My sister wants to go to the game."
        subj, neg = subject_np(rng), rng.random() < 0.2
        b.sign(topic, "topic")
        subj.signs(b)
        verb_sign(b, "WANT", neg)
        b.sign("GO")
        subj.words(b)
        verb_phrase(b, "WANT", subj.person, "present", neg)
        b.say("to go to " + TOPIC_EVENT[b.topic])
    elif kind < 0.6:
        time, subj, neg = pick(rng, TIMES), subject_np(rng), rng.random() < 0.15
        b.sign(time)
        b.sign(topic, "topic")
        subj.signs(b)
        verb_sign(b, "GO", neg)
        subj.words(b)
        verb_phrase(b, "GO", subj.person, tense_of(time, True), neg)
        b.say("to " + TOPIC_EVENT[b.topic])
        b.say_time(time)
    elif kind < 0.8:
        subj, verb, neg = subject_np(rng), pick(rng, ("LIKE", "LOVE")), rng.random() < 0.2
        b.sign(topic, "topic")
        subj.signs(b)
        verb_sign(b, verb, neg)
        subj.words(b)
        verb_phrase(b, verb, subj.person, "present", neg)
        b.say(TOPIC_PLURAL[b.topic])
    else:
        time, adj, neg = time_sign(rng, 0.7), pick(rng, TOPIC_ADJ), rng.random() < 0.15
        b.sign_time(time)
        b.sign(topic, "topic")
        b.sign(adj, "neg" if neg else "")
        b.sign_not(neg)
        b.say(TOPIC_EVENT[b.topic] + " " + be("3sg", tense_of(time, False), neg) + " " + TOPIC_ADJ[adj])
        b.say_time(time)
    return "statement"


TEMPLATES = {
    "motion": _motion,
    "object": _object_topic,
    "adjective": _adjective,
    "activity": _activity,
    "person": _person,
    "wh": _wh,
    "yesno": _yesno,
    "intro": _intro,
}
MIN_SIGNS, MAX_SIGNS = 3, 8


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _paraphrases(b: Builder, words: list[str], end: str) -> tuple[str, ...]:
    text = " ".join(words)
    out = []
    contracted = text
    for long, short in CONTRACTIONS.items():
        contracted = contracted.replace(f" {long} ", f" {short} ")
    out.append(_capitalize(contracted) + end)
    if b.time_words and end == "." and len(words) > b.time_words:
        time = " ".join(words[-b.time_words :])
        rest = " ".join(words[: -b.time_words])
        rest = rest if rest.startswith("I ") else rest[:1].lower() + rest[1:]
        out.append(_capitalize(f"{time}, {rest}") + end)
    reference = _capitalize(text) + end
    return tuple(dict.fromkeys(p for p in out if p != reference))


def _finish(b: Builder, template: str, mood: str) -> SynthSentence:
    words = [w for w, _ in b.words]
    end = "." if mood == "statement" else "?"
    in_sentence = TOPIC_SIGN[b.topic] in b.glosses
    ambiguous = tuple(
        Ambiguity(amb, b.glosses[amb], w, i, in_sentence) for i, (w, amb) in enumerate(b.words) if amb is not None
    )
    return SynthSentence(
        glosses=tuple(b.glosses),
        english=_capitalize(" ".join(words)) + end,
        template=template,
        topic=b.topic,
        ambiguous=ambiguous,
        face=tuple(b.face),
        mood=mood,
        paraphrases=_paraphrases(b, words, end),
    )


def sample_sentence(
    rng: np.random.Generator, topic: str, intro: bool = False, avoid: set[tuple[str, ...]] | None = None
) -> SynthSentence:
    """One sentence of a ``topic`` document (``intro``: one that names the topic); gloss sequences
    in ``avoid`` are redrawn (held-out splits avoid the training sequences)."""
    if topic not in TOPICS:
        raise ValueError(f"topic {topic!r} is not one of {TOPICS}")
    names, weights = list(TEMPLATE_WEIGHTS), np.array(list(TEMPLATE_WEIGHTS.values()))
    for _ in range(2000):
        name = "intro" if intro else names[int(rng.choice(len(names), p=weights / weights.sum()))]
        b = Builder(topic)
        mood = TEMPLATES[name](rng, b)
        if not MIN_SIGNS <= len(b.glosses) <= MAX_SIGNS:
            continue
        if avoid is not None and tuple(b.glosses) in avoid:
            continue
        return _finish(b, name, mood)
    raise RuntimeError("could not draw a sentence outside the avoided set: the split is too large for the grammar")
