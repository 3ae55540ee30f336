"""Shared by the encoder tests: one thread for tiny models, rendered synthsign clips (made once per
session), feature-store helpers and a toy model for the optimizer and the loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from pose.synth import SynthConfig, generate
from pretrain.data import PretrainData
from pretrain.store import FeatureStore


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The tiny models' ops are too small to split: on a busy 2-core machine a second thread only
    adds waiting (10-100x slower measured)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def rendered_document(tmp_path_factory) -> Path:
    """One rendered synthsign document (6 clips of 256 x 256 video): the DINO and crop tests' clips."""
    out = tmp_path_factory.mktemp("synth")
    config = SynthConfig(size="tiny", seed=0, render=True, documents=False, progress=False)
    config.only_splits, config.only_documents = ["test"], 1  # one document is enough: a third of the time
    generate(out, config)
    return out


@pytest.fixture(scope="session")
def rendered_train(tmp_path_factory) -> PretrainData:
    """synthsign tiny's train split with rendered videos: the MAE and signer-box tests' clips."""
    out = tmp_path_factory.mktemp("synth")
    # only the train split: the same clips as a full tiny run, in half the rendering time
    generate(out, SynthConfig(size="tiny", seed=0, render=True, documents=False, progress=False, only_splits=["train"]))
    return PretrainData(poses=str(out / "poses"), videos=str(out / "videos"))


@pytest.fixture(scope="session")
def tiny_poses(tmp_path_factory) -> Path:
    """synthsign tiny's poses (no videos, no full documents): the Sign2Vec tests' clips."""
    out = tmp_path_factory.mktemp("synthsign") / "tiny"
    generate(out, SynthConfig(size="tiny", seed=0, documents=False, progress=False))
    return out


def first_clip(synth):
    """The first clip of a rendered synthsign folder: ``(pose path, video path)``."""
    pose = sorted((synth / "poses").glob("*.pose"))[0]
    return pose, synth / "videos" / f"{pose.stem}.mp4"


def offsets(pose) -> dict[str, int]:
    """Where each component's points start in the pose's point axis."""
    start, out = 0, {}
    for c in pose.header.components:
        out[c.name] = start
        start += len(c.points)
    return out


def make_clips(n: int, dim: int = 16, seed: int = 0, prefix: str = "clip") -> dict[str, np.ndarray]:
    """``n`` float16 clips of 1-39 random frames each, named ``{prefix}0000`` ...."""
    rng = np.random.default_rng(seed)
    return {
        f"{prefix}{i:04d}": rng.standard_normal((int(rng.integers(1, 40)), dim)).astype(np.float16) for i in range(n)
    }


def write(root, stream: str, shard: str, clips: dict[str, np.ndarray], **kwargs) -> list[str]:
    """Write ``clips`` as one job (shard ``shard``) of ``stream``; the parts it committed."""
    with FeatureStore.writer(root, stream, shard, **kwargs) as w:
        for clip, x in clips.items():
            w.add(clip, x)
    return w.committed


def one_line(err: pytest.ExceptionInfo) -> str:
    """The error's text, which must be one line."""
    text = str(err.value)
    assert "\n" not in text
    return text


class Toy(nn.Module):
    """A linear model with one matrix that opts out of weight decay (the loop's and optimizer's tests)."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(4, 1)
        self.offset = nn.Parameter(torch.zeros(2, 1))  # a matrix that opts out of weight decay

    def no_weight_decay(self) -> set[str]:
        return {"offset"}
