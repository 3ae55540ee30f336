"""Typed configs: dataclass defaults <- YAML file <- key=value overrides, errors in one line."""

from __future__ import annotations

import pytest

from pose.config import ExtractConfig
from pose.config_loader import load_config
from pose.errors import InputError


def test_bad_config_file(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("holistic: [unclosed\n")
    with pytest.raises(InputError, match="c.yaml: not a valid YAML config"):
        load_config(ExtractConfig, cfg)


def test_config_layers(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("workers: 3\nholistic:\n  model_complexity: 2\n")
    loaded = load_config(ExtractConfig, cfg, ["workers=4"])
    assert loaded.workers == 4 and loaded.holistic.model_complexity == 2 and loaded.video.backend == "auto"
