"""The languages a dataset is signed and written in: prompts name them, metrics tokenize by the written one.

A dataset declares its language pair (:data:`LANGUAGES`: ``asl-en`` How2Sign, ``dgs-de`` RWTH-PHOENIX-2014T,
``csl-zh`` CSL-Daily); a model records the pair it was trained for (``model.language``), so that its prompts
at inference are the ones it learned. An empty setting is ``asl-en``, what every model before languages
existed was trained for.
"""

from __future__ import annotations

from dataclasses import dataclass

from pose.errors import InputError


@dataclass(frozen=True)
class Language:
    """A sign language and the written language its translations are in."""

    sign: str  # "American Sign Language": how prompts name the signing
    abbreviation: str  # "ASL"
    written: str  # "English": what prompts ask for
    code: str  # "en": the written language's ISO 639-1 code (metrics' tokenization, model cards)
    sign_code: str  # "ase": the sign language's ISO 639-3 code (model cards)


LANGUAGES = {
    "asl-en": Language("American Sign Language", "ASL", "English", "en", "ase"),
    "dgs-de": Language("German Sign Language", "DGS", "German", "de", "gsg"),
    "csl-zh": Language("Chinese Sign Language", "CSL", "Chinese", "zh", "csl"),
}
DEFAULT_LANGUAGE = "asl-en"


def language(name: str | None) -> Language:
    """The language pair ``name`` (empty: :data:`DEFAULT_LANGUAGE`); an unknown name is one line."""
    key = name or DEFAULT_LANGUAGE
    if key not in LANGUAGES:
        raise InputError(None, f"unknown language {key!r}: choose one of {', '.join(LANGUAGES)}")
    return LANGUAGES[key]
