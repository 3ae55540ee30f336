"""synthsign's English: verb forms by tense, person and negation, "be" and question auxiliaries, and
the words of topic-dependent signs pointing back at their sign."""

from __future__ import annotations

import pytest

from pose.synth.english import NP, Builder, aux, be, tense_of, verb_forms, verb_phrase, verb_sign
from pose.synth.vocab import AMBIGUOUS


def said(verb: str, person: str, tense: str, neg: bool, topic: str = "party") -> str:
    b = Builder(topic)
    verb_phrase(b, verb, person, tense, neg)
    return " ".join(w for w, _ in b.words)


@pytest.mark.parametrize(
    "person, tense, neg, english",
    [
        ("3sg", "present", False, "goes"),
        ("3sg", "present", True, "does not go"),
        ("pl", "present", False, "go"),
        ("1sg", "present", True, "do not go"),
        ("3sg", "past", False, "went"),
        ("pl", "past", True, "did not go"),
        ("3sg", "future", False, "will go"),
        ("1sg", "future", True, "will not go"),
    ],
)
def test_verb_phrases(person, tense, neg, english):
    assert said("GO", person, tense, neg) == english


def test_be_auxiliaries_and_tenses():
    assert [be(p, "present", False) for p in ("1sg", "3sg", "pl")] == ["am", "is", "are"]
    assert (be("3sg", "past", True), be("pl", "past", False), be("1sg", "future", True)) == (
        "was not",
        "were",
        "will not be",
    )
    assert [aux("3sg", "present"), aux("pl", "present"), aux("1sg", "past"), aux("pl", "future")] == [
        "does",
        "do",
        "did",
        "will",
    ]
    assert aux("pl", "past", copula=True) == "were" and aux("3sg", "present", copula=True) == "is"
    assert tense_of(None, True) == "present"
    assert (tense_of("YESTERDAY", True), tense_of("TODAY", True), tense_of("TODAY", False)) == (
        "past",
        "future",
        "present",
    )
    assert tense_of("TOMORROW", False) == "future"


def test_the_activity_verb_and_ambiguous_nouns_follow_the_topic():
    assert verb_forms("ACTIVITY", "school") == ["study", "studies", "studied"]
    assert verb_forms("ACTIVITY", "sports")[0] == AMBIGUOUS["ACTIVITY"]["sports"] == "play"
    assert said("ACTIVITY", "3sg", "present", False, topic="restaurant") == "cooks"
    b = Builder("sports")
    team = NP(["GROUP"], "the", amb="GROUP")
    team.signs(b)
    i = verb_sign(b, "LIKE", neg=True)  # ASL: the verb, then NOT, the head shaking over both
    team.words(b)
    verb_phrase(b, "LIKE", team.person, "present", True, index=None)
    assert b.glosses == ["GROUP", "LIKE", "NOT"] and b.face == ["", "neg", "neg"] and i == 1
    assert b.words == [("the", None), ("team", 0), ("does", None), ("not", None), ("like", None)]  # "team" <- sign 0


def test_a_closing_time_phrase_is_counted_for_the_paraphrase():
    b = Builder("party")
    b.sign_time("LAST-WEEK")
    b.sign_time(None)
    b.say("we danced")
    b.say_time("LAST-WEEK")
    assert b.glosses == ["LAST-WEEK"] and [w for w, _ in b.words] == ["we", "danced", "last", "week"]
    assert b.time_words == 2
