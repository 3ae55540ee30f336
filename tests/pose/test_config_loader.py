"""Typed configs: dataclass defaults <- YAML file <- key=value overrides, errors in one line."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pose.config import ExtractConfig
from pose.config_loader import load_config, save_config
from pose.errors import InputError


@dataclass
class Stream:
    dim: int = 8
    stride: int = 1


@dataclass
class Model:
    streams: dict[str, Stream] = field(default_factory=lambda: {"pose": Stream(208)})  # free-form: names are data
    name: str = "tiny"


@dataclass
class Run:
    """A toy schema with a free-form dict at the top and one inside a section."""

    model: Model = field(default_factory=Model)
    steps: int = 10
    tags: dict[str, int] = field(default_factory=lambda: {"a": 1})


def test_bad_config_file(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("holistic: [unclosed\n")
    with pytest.raises(InputError, match="c.yaml: not a valid YAML config"):
        load_config(ExtractConfig, cfg)


def test_config_layers(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("workers: 3\nholistic:\n  backend: legacy\n  model_complexity: 2\n")
    loaded = load_config(ExtractConfig, cfg, ["workers=4"])
    assert loaded.workers == 4 and loaded.holistic.model_complexity == 2 and loaded.video.backend == "auto"


def test_a_base_layer_sits_between_the_defaults_and_the_file(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model:\n  name: big\n")
    loaded = load_config(Run, cfg, base={"steps": 3, "model": {"name": "from-base"}})
    assert (loaded.steps, loaded.model.name) == (3, "big")  # the file wins over the base, the base over defaults
    assert load_config(Run, None, ["steps=5"], base={"steps": 3}).steps == 5  # and overrides over both


def test_a_file_replaces_a_free_form_dict_and_overrides_merge_into_it(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model:\n  streams:\n    s2v: {dim: 64}\ntags: {b: 2}\n")
    loaded = load_config(Run, cfg, ["model.streams.s2v.stride=3", "tags.c=5"])
    assert loaded.model.streams == {"s2v": Stream(64, 3)}  # the default pose stream is not kept
    assert loaded.tags == {"b": 2, "c": 5} and loaded.model.name == "tiny"
    cfg.write_text("model:\n  name: big\n")  # a file that leaves the dict out keeps the default one
    assert load_config(Run, cfg).model.streams == {"pose": Stream(208)}
    grown = load_config(Run, None, ["model.streams.x.dim=3"])  # without a file: an override adds an entry
    assert grown.model.streams == {"pose": Stream(208), "x": Stream(3)}


@pytest.mark.parametrize(
    "text, message",
    [
        ("model:\n  nmae: x\n", "Key 'nmae' not in 'Model'"),
        ("nope: 1\n", "Key 'nope' not in 'Run'"),
        ("steps: many\n", "Value 'many' of type 'str' could not be converted to Integer"),
        ("steps: [\n", "not a valid YAML config"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file(tmp_path, text, message):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        load_config(Run, cfg)
    assert str(err.value).startswith(f"{cfg}: ") and "\n" not in str(err.value)


def test_bad_overrides_and_a_missing_file_are_one_line(tmp_path):
    cases = [
        ((None, ["steps"]), "override 'steps' must look like key=value"),
        ((None, ["steps=many"]), "bad config: Value 'many' of type 'str' could not be converted to Integer"),
        ((None, ["nope=1"]), "bad config: Key 'nope' not in 'Run'"),
        ((tmp_path / "none.yaml", []), f"{tmp_path / 'none.yaml'}: config file not found"),
    ]
    for (path, overrides), message in cases:
        with pytest.raises(InputError) as err:
            load_config(Run, path, overrides)
        assert str(err.value) == message
    with pytest.raises(InputError, match=r"^config value workers=-3 is invalid"):  # the schema's own validation
        load_config(ExtractConfig, None, ["workers=-3"])


def test_a_saved_config_loads_back_equal(tmp_path):
    config = load_config(Run, None, ["model.streams.s2v.dim=64", "steps=4"])
    path = save_config(config, tmp_path / "run" / "config.yaml")
    assert load_config(Run, path) == config
    assert "s2v:\n      dim: 64" in path.read_text() and not list(path.parent.glob(".*"))  # no temporary left
    with pytest.raises(TypeError, match="dataclass"):
        save_config({"steps": 4}, tmp_path / "dict.yaml")


def test_a_long_value_in_a_config_file_is_clipped_in_the_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("holistic:\n  model_complexity: " + "x" * 100_000 + "\n")
    with pytest.raises(InputError) as err:
        load_config(ExtractConfig, path)
    assert str(err.value).startswith(f"{path}: ") and len(str(err.value)) < 300 and "…" in str(err.value)
