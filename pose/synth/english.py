"""English realization for synthsign sentences: noun phrases, verb forms, tense and questions.

A :class:`Builder` collects a sentence's glosses (ASL order) and English words side by side; each
English word remembers the ambiguous sign it translates, so the metadata can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .vocab import (
    ACTIVITY_FORMS,
    AMBIGUOUS,
    BE,
    DRINK_ADJ,
    INDEFINITE,
    MASS,
    OBJECTS,
    PEOPLE,
    PERSON_ADJ,
    PLACES,
    POSSESSIVES,
    PRONOUNS,
    THING_ADJ,
    THINGS,
    TIMES,
    VERBS,
)


@dataclass
class Builder:
    """Collects a sentence's glosses (ASL order) and English words (with their ambiguous sign)."""

    topic: str
    glosses: list[str] = field(default_factory=list)
    face: list[str] = field(default_factory=list)
    words: list[tuple[str, int | None]] = field(default_factory=list)  # (word, index of its ambiguous sign)
    time_words: int = 0  # English words of a time phrase closing the sentence (for the paraphrase)

    def sign(self, gloss: str, face: str = "") -> int:
        self.glosses.append(gloss)
        self.face.append(face)
        return len(self.glosses) - 1

    def sign_time(self, time: str | None) -> None:
        if time:
            self.sign(time)

    def sign_not(self, neg: bool) -> None:
        if neg:
            self.sign("NOT", "neg")

    def say(self, text: str, amb: int | None = None) -> None:
        self.words.extend((w, amb) for w in text.split())

    def say_time(self, time: str | None) -> None:
        if time:
            self.say(TIMES[time][0])
            self.time_words = len(TIMES[time][0].split())


def pick(rng: np.random.Generator, options):
    options = list(options)
    return options[int(rng.integers(len(options)))]


class NP:
    """A noun phrase: its glosses, its English (the article alone for an ambiguous noun), its person."""

    def __init__(self, glosses: list[str], text: str, person: str = "3sg", amb: str | None = None):
        self.glosses, self.text, self.person, self.amb = glosses, text, person, amb
        self.index: int | None = None

    def signs(self, b: Builder, face: str = "") -> None:
        for g in self.glosses:
            i = b.sign(g, face)
            if g == self.amb:
                self.index = i

    def words(self, b: Builder) -> None:
        b.say(self.text)
        if self.amb is not None:
            b.say(AMBIGUOUS[self.amb][b.topic], self.index)


def subject_np(rng, people_only: bool = False) -> NP:
    kind = rng.random()
    if kind < 0.4 and not people_only:
        g = pick(rng, PRONOUNS)
        return NP([g], *PRONOUNS[g])
    if kind < 0.75:
        poss, who = pick(rng, POSSESSIVES), pick(rng, PEOPLE)
        return NP([poss, who], f"{POSSESSIVES[poss]} {PEOPLE[who]}")
    g = pick(rng, ("LEADER", "GROUP"))
    return NP([g], "the", amb=g)


def object_np(rng, verb: str) -> NP:
    g = pick(rng, OBJECTS[verb])
    if g in MASS:
        return NP([g], MASS[g])
    article = "a" if verb in INDEFINITE else "the"
    return NP([g], article, amb=g) if g == "THING" else NP([g], f"{article} {THINGS[g]}")


def place_np(rng) -> NP:
    if rng.random() < 0.45:
        return NP(["PLACE"], "the", amb="PLACE")
    g = pick(rng, PLACES)
    return NP([g], f"the {PLACES[g]}")


def described_np(rng) -> tuple[NP, dict[str, str]]:
    """A noun phrase for an adjective predicate, with the adjectives that suit it."""
    kind = rng.random()
    if kind < 0.4:
        return subject_np(rng), PERSON_ADJ
    if kind < 0.7:
        poss, thing = pick(rng, POSSESSIVES), pick(rng, THINGS)
        return NP([poss, thing], f"{POSSESSIVES[poss]} {THINGS[thing]}"), THING_ADJ
    if kind < 0.88:
        g = pick(rng, ("THING", "PLACE"))
        return NP([g], "the", amb=g), THING_ADJ
    g = pick(rng, ("COFFEE", "WATER"))
    return NP([g], f"the {MASS[g]}"), DRINK_ADJ


def time_sign(rng, p: float) -> str | None:
    return pick(rng, TIMES) if rng.random() < p else None


def verb_forms(verb: str, topic: str) -> list[str]:
    if verb == "ACTIVITY":
        base = AMBIGUOUS["ACTIVITY"][topic]
        return [base, *ACTIVITY_FORMS[base].split()]
    return VERBS[verb].split()


def verb_phrase(b: Builder, verb: str, person: str, tense: str, neg: bool, index: int | None = None) -> None:
    """A statement's verb: "went", "does not like", "will come" ... (``index``: an ambiguous verb's sign)."""
    base, third, past = verb_forms(verb, b.topic)
    if tense == "future":
        b.say("will not" if neg else "will")
        word = base
    elif tense == "past":
        b.say("did not" if neg else "")
        word = base if neg else past
    else:
        b.say(("does not" if person == "3sg" else "do not") if neg else "")
        word = base if neg or person != "3sg" else third
    b.say(word, index)


def be(person: str, tense: str, neg: bool) -> str:
    if tense == "future":
        return "will not be" if neg else "will be"
    return BE[tense][person] + (" not" if neg else "")


def aux(person: str, tense: str, copula: bool = False) -> str:
    """The fronted auxiliary of a question: do, does, did, will, is, were ..."""
    if tense == "future":
        return "will"
    if copula:
        return BE[tense][person]
    return "did" if tense == "past" else ("does" if person == "3sg" else "do")


def tense_of(time: str | None, action: bool) -> str:
    return "present" if time is None else TIMES[time][1 if action else 2]


def verb_sign(b: Builder, verb: str, neg: bool) -> int:
    """The verb, then NOT (ASL negates after the verb); the head shakes over both."""
    i = b.sign(verb, "neg" if neg else "")
    b.sign_not(neg)
    return i
