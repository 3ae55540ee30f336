"""Encoder streams at inference: the encoder a store recorded or ``--encoder`` names, checked against the model."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from pose.errors import InputError
from pretrain.build import PretrainConfig, build_objective, config_text
from pretrain.encoder_record import record_encoder
from signllava.inference.encoders import StreamEncoder, load_encoders, parse_encoder_options
from signllava.model.model import StreamConfig
from tests.pose.test_features import synthetic_pose


@pytest.fixture(scope="module")
def sign2vec_checkpoint(tmp_path_factory) -> Path:
    """An untrained tiny Sign2Vec (64 values per frame) saved as a pretraining checkpoint."""
    folder = tmp_path_factory.mktemp("s2v") / "last"
    folder.mkdir()
    cfg = PretrainConfig("sign2vec", {"size": "tiny", "max_frames": 40})
    torch.manual_seed(0)
    objective = build_objective(cfg)
    save_file({k: v.contiguous() for k, v in objective.state_dict().items()}, folder / "model.safetensors")
    (folder / "config.yaml").write_text(config_text(cfg))
    return folder


def test_encoder_options_are_name_equals_checkpoint():
    assert parse_encoder_options(["sign2vec=runs/s2v/last", "mae=a=b"]) == {"sign2vec": "runs/s2v/last", "mae": "a=b"}
    for bad in ("sign2vec", "=runs/x", "sign2vec="):
        with pytest.raises(InputError, match=re.escape(f"--encoder {bad!r} must look like NAME=CHECKPOINT")):
            parse_encoder_options([bad])


def test_pose_views_need_no_encoder_and_other_streams_need_one(tmp_path):
    assert load_encoders({"pose": StreamConfig(208), "s2v_view": StreamConfig(255)}, {}, {}, "cpu") == {}
    with pytest.raises(InputError, match=r"--encoder dino: the model has no such stream \(it has pose\)"):
        load_encoders({"pose": StreamConfig(208)}, {"dino": "x"}, {}, "cpu")
    with pytest.raises(InputError, match="reads stream 's2v' .64 values per frame. .* give --encoder s2v=PRETRAIN_RUN"):
        load_encoders({"s2v": StreamConfig(64)}, {}, {"s2v": str(tmp_path)}, "cpu")  # a store with no record


def test_the_stores_recorded_encoder_is_loaded_and_checked(sign2vec_checkpoint, tmp_path):
    record_encoder(tmp_path / "store", "s2v", sign2vec_checkpoint)
    (encoder,) = load_encoders({"s2v": StreamConfig(64)}, {}, {"s2v": str(tmp_path / "store")}, "cpu").values()
    assert (encoder.name, encoder.kind, encoder.checkpoint) == ("s2v", "sign2vec", sign2vec_checkpoint)
    assert not encoder.needs_video and re.fullmatch(r"[0-9a-f]{16}", encoder.digest)
    features = encoder.features(synthetic_pose(frames=12), None, Path("clip.pose"))
    assert features.shape == (12, 64) and features.dtype == np.float32 and np.isfinite(features).all()
    given = load_encoders({"s2v": StreamConfig(64)}, {"s2v": sign2vec_checkpoint}, {}, "cpu")  # --encoder wins
    assert given["s2v"].digest == encoder.digest
    with pytest.raises(InputError, match="sign2vec encoder gives 64 values per frame; the model's stream 'x' has 5"):
        load_encoders({"x": StreamConfig(5)}, {"x": sign2vec_checkpoint}, {}, "cpu")


def test_an_image_encoder_needs_the_video():
    encoder = StreamEncoder("mae", Path("runs/mae/last"), torch.nn.Linear(2, 2), "mae", "0" * 16)
    assert encoder.needs_video
    with pytest.raises(InputError, match="clip.pose: the mae stream reads video frames: give the video, not a .pose"):
        encoder.features(synthetic_pose(), None, Path("clip.pose"))
