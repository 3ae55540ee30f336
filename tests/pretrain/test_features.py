"""Opening a stream's features in either layout: a feature store, or the original JSALT 2024 HDF5 files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pose.errors import InputError
from pretrain.features import open_features
from pretrain.store import FeatureStore


def test_a_store_root_needs_the_streams_name(tmp_path):
    with FeatureStore.writer(tmp_path, "pose", "job") as w:
        w.add("c", np.ones((3, 208)))
    store = open_features(tmp_path, "pose")
    assert isinstance(store, FeatureStore) and store["c"].shape == (3, 208)
    with pytest.raises(InputError, match="name the stream to open"):
        open_features(tmp_path)
    with pytest.raises(InputError, match="no committed shards"):
        open_features(tmp_path, "mae")


def test_a_jsalt_index_or_shard_opens_the_jsalt_reader(tmp_path):
    h5py = pytest.importorskip("h5py")
    from pretrain.jsalt import JsaltFeatures

    x = np.arange(10, dtype=np.float16).reshape(5, 2)
    with h5py.File(tmp_path / "how2sign.pose.val.0.h5", "w") as f:
        f.create_group("vid").create_dataset("vid_0-1", data=x)
    (tmp_path / "how2sign.pose.val.json").write_text(json.dumps({"vid": 0}))
    for path in (tmp_path / "how2sign.pose.val.json", tmp_path / "how2sign.pose.val.0.h5"):
        features = open_features(path, "ignored: the layout names its stream")
        assert isinstance(features, JsaltFeatures) and np.array_equal(features["vid_0-1"], x)
        features.close()
    with pytest.raises(InputError, match="name the stream"):  # a .json that is not there: not JSALT
        open_features(tmp_path / "missing.json")
