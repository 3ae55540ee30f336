"""synthsign's settings: validation and the size presets."""

from __future__ import annotations

import pytest

from pose.errors import InputError
from pose.synth import SynthConfig


@pytest.mark.parametrize(
    "kwargs",
    [{"size": "huge"}, {"seed": -1}, {"min_sentences": 5, "max_sentences": 4}, {"width": 10}, {"hand_drop_rate": 2}],
)
def test_config_validation(kwargs):
    with pytest.raises(InputError, match="synth"):
        SynthConfig(**kwargs)


def test_size_presets():
    counts = {size: sum(SynthConfig(size=size).doc_counts().values()) for size in ("tiny", "small", "medium", "large")}
    assert counts["tiny"] < counts["small"] < counts["medium"] < counts["large"]
    assert SynthConfig(size="small", test_docs=0).doc_counts()["test"] == 0
