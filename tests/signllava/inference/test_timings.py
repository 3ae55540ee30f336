"""Seconds per stage of a translate call, and what came from the cache (``--verbose``)."""

from __future__ import annotations

import pytest

from signllava.inference.timings import Timings


def test_stages_add_up_in_the_order_they_first_ran():
    timings = Timings()
    assert timings.total() == 0 and timings.summary() == "; total 0.00 s"
    timings.add("poses", 1.25)
    timings.add("generate", 0.5)
    timings.add("poses", 0.25)  # a stage that runs twice is summed
    assert timings.stages == {"poses": 1.5, "generate": 0.5} and timings.total() == pytest.approx(2.0)
    assert timings.summary() == "poses 1.50 s, generate 0.50 s; total 2.00 s"


def test_the_summary_says_what_came_from_the_cache():
    timings = Timings({"hash": 0.01}, cached_poses=True)
    assert timings.summary() == "hash 0.01 s; total 0.01 s (poses from cache)"
    timings.cached_features = True
    assert timings.summary().endswith("(poses and features from cache)")
    assert Timings(cached_features=True).summary().endswith("(features from cache)")
    assert Timings().stages is not Timings().stages  # each call's timings start empty
