"""Encoder streams (Sign2Vec, DINO, MAE) computed from a video for ``translate`` and ``ask``.

A model trained on an encoder's features needs that same encoder at inference time: the
pretraining checkpoint that extracted them. ``signllava extract-features`` records it beside the
features (``STORE/STREAM/encoder.json``, :mod:`pretrain.encoder_record`), so a model trained on that
store finds its encoder by itself; on another machine, or after the run moved,
``--encoder NAME=PRETRAIN_RUN/last`` names it. Features are cached by the input's content hash and
the encoder's weights, like the poses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pose.errors import InputError, quoted
from pose.io import file_sha256
from pretrain.encoder_record import recorded_encoder
from pretrain.extract import IMAGE_STREAMS  # encoders that read video frames, not only poses


@dataclass
class StreamEncoder:
    """One stream's pretrained encoder: ``features(pose, video) -> (T, dim)`` float32."""

    name: str
    checkpoint: Path
    objective: torch.nn.Module
    kind: str  # sign2vec, dino or mae
    digest: str  # of the encoder's weights, for the feature cache key

    @property
    def needs_video(self) -> bool:
        return self.kind in IMAGE_STREAMS

    def features(self, pose, video: Path | np.ndarray | None, source: Path) -> np.ndarray:
        """``video``: the clip's video file, or its RGB frames ``(T, H, W, 3)`` (a live segment's)."""
        if self.needs_video and video is None:
            raise InputError(source, f"the {self.name} stream reads video frames: give the video, not a .pose file")
        device = next(self.objective.parameters()).device
        frames = video if video is None or isinstance(video, np.ndarray) else str(video)
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out = self.objective.features(pose, frames)
        out = out.float().cpu().numpy() if isinstance(out, torch.Tensor) else out
        return np.asarray(out, np.float32)


def load_encoders(
    streams: Mapping[str, object],
    given: Mapping[str, str | os.PathLike],
    stores: Mapping[str, str | None],
    device: torch.device | str,
) -> dict[str, StreamEncoder]:
    """An :class:`StreamEncoder` for every model stream that is not a pose view.

    ``streams``: the model's ``{name: StreamConfig}``; ``given``: ``--encoder`` checkpoints by
    stream; ``stores``: the training config's feature store per stream (where extraction recorded
    its encoder). A stream with no encoder, or an encoder of the wrong size, is a one-line error.
    """
    from pretrain.build import load_objective

    from ..data.poses import VIEWS
    from ..model.hub import resolve_encoder

    unknown = sorted(set(given) - set(streams))
    if unknown:
        raise InputError(None, f"--encoder {unknown[0]}: the model has no such stream (it has {', '.join(streams)})")
    out = {}
    for name, stream in streams.items():
        if stream.dim in VIEWS and name not in given:
            continue  # a pose view, computed from the poses
        checkpoint = given.get(name) or recorded_encoder(stores.get(name), name)
        if checkpoint is None:
            raise InputError(
                None,
                f"the model reads stream {quoted(name)} ({stream.dim} values per frame) from a pretrained encoder: "
                f"give --encoder {name}=PRETRAIN_RUN/last (the checkpoint that extracted its training features)",
            )
        checkpoint = resolve_encoder(checkpoint)  # a folder, an export or a Hugging Face repo id
        objective, cfg = load_objective(checkpoint, str(device))
        if int(objective.dim) != stream.dim:
            raise InputError(
                checkpoint,
                f"{cfg.objective} encoder gives {objective.dim} values per frame; "
                f"the model's stream {quoted(name)} has {stream.dim}",
            )
        digest = file_sha256(checkpoint / "model.safetensors")[:16]  # the feature cache key's encoder part
        out[name] = StreamEncoder(name, checkpoint, objective, cfg.objective, digest)
    return out


def parse_encoder_options(options: list[str]) -> dict[str, str]:
    """``["sign2vec=runs/s2v/last", ...]`` -> ``{"sign2vec": "runs/s2v/last"}``."""
    out = {}
    for option in options:
        name, sep, folder = option.partition("=")
        if not sep or not name or not folder:
            raise InputError(
                None, f"--encoder {quoted(option)} must look like NAME=CHECKPOINT (e.g. sign2vec=runs/s2v/last)"
            )
        out[name] = folder
    return out
