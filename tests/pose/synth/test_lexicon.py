"""synthsign's lexicon: its size, and every sign's form distinct."""

from __future__ import annotations

import pytest

from pose.synth.lexicon import LEXICON, LEXICON_SIGNS, Movement, Sign, check_lexicon


def test_lexicon_size_and_forms_are_distinct():
    assert 40 <= len(LEXICON) <= 80
    check_lexicon()
    assert len({s.form() for s in LEXICON_SIGNS}) == len(LEXICON_SIGNS)
    twin = Sign("TWIN", LEXICON["GOOD"].shape, LEXICON["GOOD"].location, LEXICON["GOOD"].movement, "in")
    with pytest.raises(ValueError, match="same form"):
        check_lexicon((*LEXICON_SIGNS, twin))
    with pytest.raises(ValueError):
        Movement("spin")
