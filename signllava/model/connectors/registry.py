"""The connector registry: how the projected sign streams reach the frozen LLM.

A connector takes every stream's projected frames (:meth:`signllava.model.model.SignLLaVA.project`:
``{stream: ((B, T', H), (B, T') mask)}``) and decides two things:

* :meth:`Connector.sequence`: the token blocks spliced into the LLM's input sequence, one block
  between ``<video_start>`` and ``<video_end>`` each (``mlp``: the frames themselves; ``resampler``:
  a few learned summaries per window; ``xattn``: empty blocks, only the delimiters stay);
* :meth:`Connector.reading`: what the LLM reads besides its sequence while it runs (``xattn`` and
  ``hybrid``: gated cross-attention on all frames; the others: nothing).

Connectors register by name when their module is imported (:mod:`signllava.model.connectors` imports
the builtin ones); a name already taken is refused, as for pretraining objectives.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping

import torch
from torch import nn

from pose.errors import InputError, quoted

Blocks = dict[str, tuple[torch.Tensor, torch.Tensor]]  # {name: ((B, N, H) tokens, (B, N) mask)}
CONNECTORS: dict[str, type[Connector]] = {}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Connector(nn.Module):
    """Base of every connector. ``config`` is the :class:`~signllava.model.model.ModelConfig` (streams and the
    connector's own settings), ``hidden`` the LLM's width, ``text_rms`` the typical per-dimension scale of
    its token embeddings, ``llm`` the frozen LLM (cross-attention hooks into its decoder layers)."""

    name = ""  # set by register
    summary = ""  # one line for `signllava show-config train`

    def __init__(self, config, hidden: int, text_rms: float, llm: nn.Module):
        super().__init__()

    def sequence(self, projected: Blocks) -> Blocks:
        """The token blocks in the LLM's sequence, in prompt order."""
        raise NotImplementedError

    def reading(self, projected: Blocks, reads_from: torch.Tensor) -> contextlib.AbstractContextManager:
        """A context in which the LLM reads the frames beside its sequence: positions at or after
        ``reads_from`` (``(B,)``, counted in real tokens as the LLM's position ids are) do."""
        return contextlib.nullcontext()

    def settings(self) -> dict:
        """What a checkpoint records of the connector (a model with other settings refuses it)."""
        return {"kind": self.name}

    def no_weight_decay(self) -> set[str]:
        """Parameter names (relative to the connector) the optimizer does not decay."""
        return set()


def register(name: str, summary: str) -> Callable[[type[Connector]], type[Connector]]:
    """Class decorator: ``@register("xattn", "one line")`` adds a connector; a taken name is refused."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"connector name {name!r} must be lowercase letters, digits or _, starting with a letter")

    def add(cls: type[Connector]) -> type[Connector]:
        if name in CONNECTORS:
            raise ValueError(f"a connector is already registered as {name!r} ({CONNECTORS[name].__qualname__})")
        cls.name, cls.summary = name, summary
        CONNECTORS[name] = cls
        return cls

    return add


def check_name(name: str) -> None:
    """A one-line InputError for a connector name that is not registered."""
    if name not in CONNECTORS:
        raise InputError(None, f"unknown connector {quoted(name)}; choose one of {', '.join(CONNECTORS)}")


def build_connector(config, hidden: int, text_rms: float, llm: nn.Module) -> Connector:
    """The connector ``config.connector`` names, built for this LLM."""
    check_name(config.connector)
    return CONNECTORS[config.connector](config, hidden, text_rms, llm)


def connector_lines() -> list[str]:
    """One line per registered connector: its name and what it does."""
    width = max(map(len, CONNECTORS))
    return [f"{name:<{width}}  {cls.summary}" for name, cls in CONNECTORS.items()]


def frame_steps(streams: Mapping) -> dict[str, int]:
    """Video frames per projected frame of each stream (its temporal stride, 1 without pooling)."""
    return {name: 1 if s.pool == "none" else s.stride for name, s in streams.items()}
