"""A short seeded fuzz of every reader (``tests/fuzz/targets.py``): a few hundred damaged and structured inputs
each, from a fixed seed, must each read or end as one ``InputError`` line. The long coverage-guided runs are
``benchmarks/fuzz.py``'s; this keeps what they found fixed, and a new reader's target honest."""

from __future__ import annotations

import warnings

import pytest

from tests.fuzz.harness import campaign, mutate
from tests.fuzz.targets import TARGETS

EXECUTIONS = 300
# readers whose every input loads a model, YAML or a 4 KB JSON document: fewer inputs, the same seed
FEWER = {"checkpoint": 150, "encoder": 150, "config": 150, "jsalt-annotations": 150}


@pytest.mark.parametrize("name", TARGETS)
def test_reader_survives_a_short_seeded_fuzz(name, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's overflow warnings on damaged poses, decoders' on damaged frames
        result = campaign(TARGETS[name], tmp_path, FEWER.get(name, EXECUTIONS), seed=0)
    assert not result.crashes, result.report()
    if TARGETS[name].strategy is not None:
        assert result.structured > 0, "the structured strategy made no input"


def test_the_campaign_is_deterministic(tmp_path):
    """One seed, the same inputs: a crash the tests find is found again on the next run."""
    import random

    seed = b"name|video|start|end\nx|y|-1|-1\n"
    runs = [random.Random(7), random.Random(7)]
    first, again = ([mutate(seed, rng, [seed]) for _ in range(20)] for rng in runs)
    assert first == again and len(set(first)) > 10


def test_a_crash_is_caught_with_its_place(tmp_path):
    """The harness itself: an exception other than InputError is a crash, located in our code."""
    from tests.fuzz.harness import Target, attempt

    def read(data, scratch):
        from pose.io import pose_seconds

        pose_seconds(None)  # a TypeError inside pose.io

    crash = attempt(Target("x", read, lambda s: [b""], ()), b"", tmp_path)
    assert crash is not None and crash.signature.startswith("TypeError @ pose/io.py:")
