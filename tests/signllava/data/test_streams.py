"""Where training data comes from: the sentences of a split, and one feature source per model stream."""

from __future__ import annotations

import numpy as np
import pytest

from pose.errors import InputError
from pose.features import pose_view_208
from pose.io import write_pose
from pretrain import FeatureStore
from signllava.data.how2sign import Sentence, write_manifest
from signllava.data.streams import DataConfig, StreamInput, build_streams, load_sentences
from signllava.model.model import ModelConfig, StreamConfig
from tests.pose.test_features import synthetic_pose
from tests.signllava.conftest import HEADER

ROWS = [
    "v\tv-1\tv_0\tv_0-1\t0.0\t1.0\tfirst",
    "v\tv-1\tv_1\tv_1-1\t1.0\t1.0\tzero length",  # dropped, as `data check` drops it
    "w\tw-1\tw_0\tw_0-1\t0.0\t2.0\tsecond",
]


def test_sentences_of_a_split_from_realigned_files_and_manifests(tmp_path):
    (tmp_path / "a_train.csv").write_text(HEADER + "\n".join(ROWS) + "\n")
    (tmp_path / "a_val.csv").write_text(HEADER + "v\tv-1\tv_9\tv_9-1\t5.0\t6.0\theld out\n")
    manifest = write_manifest([Sentence("m", "m-1", "m_0", "m_0-1", 0.0, 1.0, "from a manifest", "train")],
                              tmp_path / "manifest.tsv")  # fmt: skip
    data = DataConfig(metadata=[str(tmp_path / "a_train.csv"), str(tmp_path / "a_val.csv"), str(manifest)])
    assert [s.sentence_name for s in load_sentences(data, "train")] == ["m_0-1", "v_0-1", "w_0-1"]
    assert [s.text for s in load_sentences(data, "val")] == ["held out"]
    assert load_sentences(data, "test") == []
    with pytest.raises(InputError, match="data.metadata is empty"):
        load_sentences(DataConfig(), "train")


def test_a_stream_has_exactly_one_source():
    for both_or_neither in ({}, {"store": "s", "poses": "p"}):
        with pytest.raises(InputError, match="exactly one of store or poses"):
            StreamInput(**both_or_neither)


def test_every_model_stream_gets_a_source_of_its_size(tmp_path):
    sentences = [
        Sentence("v", "v-1", "v_0", "v_0-1", 0.0, 1.0, "a"),
        Sentence("w", "w-1", "w_0", "w_0-1", 0.0, 1.0, "b"),
    ]
    rng = np.random.default_rng(0)
    with FeatureStore.writer(tmp_path / "store", "mae", "job", dim=8) as w:  # a small stand-in for 768
        for s in sentences:
            w.add(s.sentence_name, rng.standard_normal((5, 8)))
    clips = {s.sentence_name: synthetic_pose(frames=4 + i) for i, s in enumerate(sentences)}
    for name, pose in clips.items():
        write_pose(pose, tmp_path / "poses" / f"{name}.pose")
    data = DataConfig(
        streams={"pose": StreamInput(poses=str(tmp_path / "poses")), "mae": StreamInput(store=str(tmp_path / "store"))}
    )
    model = ModelConfig(streams={"pose": StreamConfig(208), "mae": StreamConfig(8)})
    sources = build_streams(data, sentences, model)
    assert list(sources) == ["pose", "mae"]
    pose = sources["pose"].clip(sentences[1], "pose")  # the 208-value view, computed on load and kept as float16
    assert pose.dtype == np.float16 and pose.shape == (5, 208)
    np.testing.assert_allclose(pose, pose_view_208(clips["w_0-1"])[0], atol=2e-3)
    assert sources["pose"].poses == {"holistic": None, "fps": 25.0}  # how those poses were made
    assert sources["mae"].clip(sentences[0], "mae").shape == (5, 8)
    with pytest.raises(InputError, match="data.streams has no source for model stream.s. dino"):
        build_streams(data, sentences, ModelConfig(streams={"pose": StreamConfig(208), "dino": StreamConfig(8)}))
    with pytest.raises(InputError, match="stream 'mae': the data has 8 values per frame, the model expects 16"):
        build_streams(data, sentences, ModelConfig(streams={"mae": StreamConfig(16)}))
