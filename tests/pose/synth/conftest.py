"""synthsign tiny, generated once per session with rendered videos."""

from __future__ import annotations

from pathlib import Path

import pytest

from pose.synth import SynthConfig, generate


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "tiny"
    summary = generate(out, SynthConfig(size="tiny", seed=0, render=True, progress=False))
    assert sum(summary.sentences.values()) == len(list((out / "poses").glob("*.pose")))
    return out
