"""Loading and saving typed configs: dataclass defaults <- YAML file <- ``key=value`` overrides.

Every stage's config is a small dataclass tree validated in ``__post_init__``; OmegaConf merges
the layers and type-checks them, and the resolved config is saved next to the stage's outputs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from pose.errors import MESSAGE, InputError, excerpt, quoted
from pose.io import atomic_output

T = TypeVar("T")


def _one_line(err: Exception) -> str:
    """The first line of a YAML or OmegaConf error, which may quote a value of the file: clipped."""
    text = str(err).strip().splitlines()
    return excerpt(text[0], MESSAGE) if text else type(err).__name__


def load_config(
    schema: type[T],
    path: str | os.PathLike | None = None,
    overrides: Sequence[str] = (),
    base: Mapping | None = None,
) -> T:
    """Build ``schema`` from its defaults, ``base`` (a nested dict of values, e.g. a section of a
    checkpoint's config), an optional YAML file and dotlist overrides (``holistic.model_complexity=2``).
    Unknown keys and wrong types are one-line InputErrors."""
    try:
        merged = OmegaConf.structured(schema)
        if base:
            merged = OmegaConf.merge(merged, base)
        if path is not None:
            path = Path(path)
            if not path.is_file():
                raise InputError(path, "config file not found")
            try:
                layer = OmegaConf.load(path)
                _clear_replaced_dicts(merged, layer)
                merged = OmegaConf.merge(merged, layer)
            except OmegaConfBaseException as err:
                raise InputError(path, _one_line(err)) from err
            except Exception as err:  # YAML syntax errors
                raise InputError(path, f"not a valid YAML config ({_one_line(err)})") from err
        if overrides:
            bad = [o for o in overrides if "=" not in o]
            if bad:
                raise InputError(None, f"override {quoted(bad[0])} must look like key=value")
            merged = OmegaConf.merge(merged, OmegaConf.from_dotlist(list(overrides)))
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise InputError(None, f"bad config: {_one_line(err)}") from err


def _clear_replaced_dicts(base, layer) -> None:
    """Empty every free-form dict of ``base`` (e.g. ``model.streams``) that the YAML ``layer`` gives:
    a file lists the whole dict, so a stream it leaves out is not kept from the defaults. (Dotlist
    overrides still merge: ``model.streams.pose.stride=2`` changes one field of one stream.)"""
    if not OmegaConf.is_dict(layer):
        return
    for key, value in layer.items_ex(resolve=False):
        if key not in base or not OmegaConf.is_dict(value) or not OmegaConf.is_dict(base._get_node(key)):
            continue
        node = base._get_node(key)
        if OmegaConf.get_type(node) is dict:
            base[key] = {}
        else:
            _clear_replaced_dicts(node, value)


def config_yaml(config) -> str:
    return OmegaConf.to_yaml(OmegaConf.structured(config))


def save_config(config, path: str | os.PathLike) -> Path:
    """Write the resolved config as YAML, atomically."""
    if not dataclasses.is_dataclass(config):
        raise TypeError("save_config expects a dataclass instance")
    with atomic_output(path) as tmp:
        tmp.write_text(config_yaml(config))
    return Path(path)
