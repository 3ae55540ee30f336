"""The words of the synthsign language: topics, ambiguous signs, English forms, template weights.

Every gloss here is a sign of :mod:`pose.synth.lexicon`; the English side is deterministic (one
reference per sentence) and small (about 130 word types), so a small LLM can learn it.
"""

from __future__ import annotations

TOPICS = ("sports", "party", "school", "restaurant")
TOPIC_SIGN = {"sports": "SPORTS", "party": "PARTY", "school": "SCHOOL", "restaurant": "RESTAURANT"}
TOPIC_EVENT = {"sports": "the game", "party": "the party", "school": "school", "restaurant": "the restaurant"}
TOPIC_PLURAL = {"sports": "sports", "party": "parties", "school": "school", "restaurant": "restaurants"}
AMBIGUOUS: dict[str, dict[str, str]] = {
    "LEADER": {"sports": "coach", "party": "host", "school": "teacher", "restaurant": "chef"},
    "GROUP": {"sports": "team", "party": "band", "school": "class", "restaurant": "staff"},
    "THING": {"sports": "ball", "party": "cake", "school": "book", "restaurant": "menu"},
    "PLACE": {"sports": "field", "party": "hall", "school": "classroom", "restaurant": "kitchen"},
    "ACTIVITY": {"sports": "play", "party": "dance", "school": "study", "restaurant": "cook"},
}
ACTIVITY_FORMS = {"play": "plays played", "dance": "dances danced", "study": "studies studied", "cook": "cooks cooked"}

TIMES = {  # gloss -> (English, tense of action verbs, tense of "be")
    "YESTERDAY": ("yesterday", "past", "past"),
    "LAST-WEEK": ("last week", "past", "past"),
    "TODAY": ("today", "future", "present"),
    "TOMORROW": ("tomorrow", "future", "future"),
    "NEXT-WEEK": ("next week", "future", "future"),
}
PRONOUNS = {"I": ("I", "1sg"), "YOU": ("you", "pl"), "WE": ("we", "pl"), "THEY": ("they", "pl")}
PEOPLE = {"FRIEND": "friend", "MOTHER": "mother", "FATHER": "father", "SISTER": "sister", "BROTHER": "brother"}
POSSESSIVES = {"MY": "my", "YOUR": "your"}
THINGS = {"CAR": "car", "DOG": "dog", "CAT": "cat", "HOUSE": "house", "PHONE": "phone"}  # count nouns
MASS = {"COFFEE": "coffee", "WATER": "water", "MONEY": "money"}
PLACES = {"STORE": "store", "HOUSE": "house"}
VERBS = {  # gloss -> base, 3rd person singular, past
    "GO": "go goes went",
    "COME": "come comes came",
    "LIKE": "like likes liked",
    "LOVE": "love loves loved",
    "WANT": "want wants wanted",
    "SEE": "see sees saw",
    "HAVE": "have has had",
    "NEED": "need needs needed",
    "BUY": "buy buys bought",
    "DRINK": "drink drinks drank",
    "MEET": "meet meets met",
    "HELP": "help helps helped",
    "KNOW": "know knows knew",
    "WORK": "work works worked",
    "LIVE": "live lives lived",
}
ACTION = {"GO", "COME", "SEE", "BUY", "DRINK", "MEET", "HELP", "WORK", "ACTIVITY"}  # may take a time sign
INDEFINITE = {"HAVE", "WANT", "NEED", "BUY"}  # "a car"; the other verbs take "the car"
OBJECTS = {
    "LIKE": [*THINGS, *MASS, "THING"],
    "LOVE": [*THINGS, "COFFEE", "THING"],
    "WANT": [*THINGS, *MASS, "THING"],
    "SEE": [*THINGS, "THING"],
    "HAVE": [*THINGS, "MONEY", "THING"],
    "NEED": [*THINGS, *MASS, "THING"],
    "BUY": [*THINGS, "COFFEE", "WATER", "THING"],
    "DRINK": ["COFFEE", "WATER"],
}
PERSON_ADJ = {"HAPPY": "happy", "TIRED": "tired", "NICE": "nice", "COLD": "cold", "HOT": "hot", "GOOD": "good"}
THING_ADJ = {"BIG": "big", "SMALL": "small", "NEW": "new", "OLD": "old", "GOOD": "good", "BAD": "bad"}
THING_ADJ.update({"NICE": "nice", "BEAUTIFUL": "beautiful"})
DRINK_ADJ = {"HOT": "hot", "COLD": "cold", "GOOD": "good", "BAD": "bad"}
TOPIC_ADJ = {"BIG": "big", "GOOD": "good", "BAD": "bad", "NICE": "nice", "NEW": "new", "SMALL": "small"}
TEMPLATE_WEIGHTS = {
    "motion": 0.14,
    "object": 0.18,
    "adjective": 0.15,
    "activity": 0.1,
    "person": 0.1,
    "wh": 0.15,
    "yesno": 0.12,
    "intro": 0.06,  # a later sentence may name the topic again
}
CONTRACTIONS = {"do not": "don't", "does not": "doesn't", "did not": "didn't", "will not": "won't"}
CONTRACTIONS.update({"is not": "isn't", "are not": "aren't", "was not": "wasn't", "were not": "weren't"})
BE = {"present": {"1sg": "am", "3sg": "is", "pl": "are"}, "past": {"1sg": "was", "3sg": "was", "pl": "were"}}
