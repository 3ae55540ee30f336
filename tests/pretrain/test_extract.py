"""extract-features: every stream into the feature store, resumable, with the collapse checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from pose.features import pose_view_208
from pose.io import read_pose
from pose.provenance import read_record
from pose.synth import SynthConfig, generate
from pretrain.build import PretrainConfig
from pretrain.data import PretrainData
from pretrain.encoder_record import ENCODER_RECORD, recorded_encoder
from pretrain.extract import ExtractFeaturesConfig, extract_features
from pretrain.optim import OptimConfig
from pretrain.store import FeatureStore
from pretrain.trainer import pretrain
from signllava.cli import app


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    out = tmp_path_factory.mktemp("extract") / "s"
    generate(out, SynthConfig(size="tiny", seed=1, train_docs=2, val_docs=0, test_docs=0, progress=False))
    return out


@pytest.fixture(scope="module")
def sign2vec_run(synth, tmp_path_factory):
    out = tmp_path_factory.mktemp("s2v") / "run"
    cfg = PretrainConfig(
        objective="sign2vec",
        model={"size": "tiny"},
        data=PretrainData(poses=str(synth / "poses")),
        optim=OptimConfig(max_steps=2, batch_size=4),
        output_dir=str(out),
        device="cpu",
    )
    pretrain(cfg, progress=False)
    return out / "last"


def test_pose_stream_is_the_208_view_and_a_rerun_skips_what_is_stored(synth, tmp_path):
    data = PretrainData(poses=str(synth / "poses"))
    halves = [ExtractFeaturesConfig(data=data, output=str(tmp_path), shard=i, num_shards=2) for i in range(2)]
    first = extract_features(halves[0], progress=False)
    assert first.done > 0 and first.stats.dim == 208 and first.stats.effective_rank > 5
    again = extract_features(halves[0], progress=False)
    assert again.done == 0 and again.skipped == first.done
    second = extract_features(halves[1], progress=False)
    store = FeatureStore.open(tmp_path, "pose")
    assert len(store) == first.done + second.done == len(list((synth / "poses").glob("*.pose")))
    clip = sorted((synth / "poses").glob("*.pose"))[0]
    np.testing.assert_allclose(store[clip.stem], pose_view_208(read_pose(clip))[0], atol=2e-3)  # float16
    # how the poses were made travels with the features (generated poses: no Holistic settings)
    assert read_record(tmp_path / "pose") == {"holistic": None, "fps": 25.0}


def test_sign2vec_stream_with_the_retrieval_probe(synth, sign2vec_run, tmp_path):
    job = ExtractFeaturesConfig(
        stream="sign2vec", checkpoint=str(sign2vec_run), data=PretrainData(poses=str(synth / "poses")),
        output=str(tmp_path), synth=str(synth), device="cpu",
    )  # fmt: skip
    report = extract_features(job, progress=False)
    accuracy, queries = report.retrieval
    assert queries > 10 and 0 <= accuracy <= 1 and "top-1 retrieval" in report.summary()
    store = FeatureStore.open(tmp_path, "sign2vec")
    clip = sorted((synth / "poses").glob("*.pose"))[0]
    assert store[clip.stem].shape == (len(read_pose(clip).body.data), report.stats.dim)
    # the encoder that extracted the stream is recorded beside it, for translate to find
    record = json.loads((tmp_path / "sign2vec" / ENCODER_RECORD).read_text())
    assert record == {"stream": "sign2vec", "checkpoint": str(sign2vec_run.resolve())}
    assert recorded_encoder(tmp_path, "sign2vec") == sign2vec_run.resolve()
    assert recorded_encoder(tmp_path, "pose") is None and recorded_encoder(None, "sign2vec") is None


def test_bad_jobs_are_one_line_errors(synth, sign2vec_run, tmp_path):
    with pytest.raises(InputError, match="needs checkpoint"):
        ExtractFeaturesConfig(stream="dino")
    wrong = ExtractFeaturesConfig(
        stream="mae", checkpoint=str(sign2vec_run), data=PretrainData(poses=str(synth / "poses"))
    )
    with pytest.raises(InputError, match="no video|is a sign2vec model, not mae|data.videos"):
        extract_features(wrong, progress=False)
    args = ["extract-features", "--stream", "pose", "--poses", str(tmp_path / "x"), "-o", str(tmp_path / "o")]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, InputError) and "pose folder not found" in str(result.exception)
