from __future__ import annotations

import json
import multiprocessing as mp

import numpy as np
import pytest

from pose.errors import InputError
from pretrain.features import open_features
from pretrain.store import FeatureStore

h5py = pytest.importorskip("h5py")
from pretrain.jsalt import JsaltFeatures, import_jsalt  # noqa: E402


def jsalt_layout(folder, dataset="how2sign", stream="keypoints", split="train", dim=208, shards=2, videos=5):
    """The original layout: <dataset>.<stream>.<split>.<n>.h5 of {video: {clip: (T, D)}} + a JSON index."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    prefix = folder / f"{dataset}.{stream}.{split}"
    index, clips = {}, {}
    files = [h5py.File(f"{prefix}.{n}.h5", "w") for n in range(shards)]
    for v in range(videos):
        video = f"vid{v:02d}"
        n = v % shards
        index[video] = n
        group = files[n].create_group(video)
        for c in range(3):
            clip = f"{video}_{c}-5-rgb_front"
            x = rng.standard_normal((int(rng.integers(1, 30)), dim)).astype(np.float16)
            group.create_dataset(clip, data=x)
            clips[clip] = x
    for f in files:
        f.close()
    path = folder / f"{dataset}.{stream}.{split}.json"
    path.write_text(json.dumps(index))
    return path, clips


def test_read_jsalt_layout(tmp_path):
    path, clips = jsalt_layout(tmp_path)
    for opened_from in (path, tmp_path / "how2sign.keypoints.train.1.h5"):  # the index, or any shard
        src = JsaltFeatures.open(opened_from)
        assert len(src) == 15 and src.dim == 208 and sorted(src.clips()) == sorted(clips)
        assert src.name == "how2sign.keypoints.train" and src.stream == "keypoints"
        assert src.shards == ["how2sign.keypoints.train.0.h5", "how2sign.keypoints.train.1.h5"]
        for clip, x in clips.items():
            assert src.frames(clip) == x.shape[0] and src.video(clip) == clip.split("_")[0]
            y = src[clip]
            assert y.dtype == np.float16
            np.testing.assert_array_equal(y, x)
        assert "nope" not in src
        with pytest.raises(KeyError):
            src["nope"]
        src.close()
    assert isinstance(open_features(path), JsaltFeatures)


def _read_all(src, out):
    out.put({c: float(src[c].astype(np.float32).sum()) for c in src.clips()})


def test_jsalt_reads_after_fork(tmp_path):
    path, clips = jsalt_layout(tmp_path)
    src = JsaltFeatures.open(path)
    src[next(iter(clips))]  # the parent holds an open HDF5 file before forking
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_read_all, args=(src, q)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [q.get(timeout=20) for _ in procs]
    for p in procs:
        p.join(20)
        assert p.exitcode == 0
    expected = {c: float(x.astype(np.float32).sum()) for c, x in clips.items()}
    assert all(r == pytest.approx(expected) for r in results)


def test_import_jsalt_is_complete_and_resumable(tmp_path):
    path, clips = jsalt_layout(tmp_path / "jsalt")
    root = tmp_path / "store"
    assert import_jsalt(path, root, "pose", clips_per_part=4) == 15
    store = FeatureStore.open(root, "pose")
    assert len(store) == 15 and store.dim == 208
    assert store.shards[0] == "jsalt.how2sign.keypoints.train-00000" and len(store.shards) == 4
    for clip, x in clips.items():
        np.testing.assert_array_equal(store[clip], x)
    assert import_jsalt(path, root, "pose") == 0  # already there: nothing to do
    val, val_clips = jsalt_layout(tmp_path / "jsalt", split="val", videos=2, shards=1)
    val_clips = {f"val-{c}": x for c, x in val_clips.items()}
    with h5py.File(tmp_path / "jsalt" / "how2sign.keypoints.val.0.h5", "a") as f:  # new clip names
        for video in list(f):
            for clip in list(f[video]):
                f[video].move(clip, f"val-{clip}")
    assert import_jsalt(val, root, "pose") == 6
    assert len(FeatureStore.open(root, "pose")) == 21


def test_jsalt_layout_errors(tmp_path):
    path, _ = jsalt_layout(tmp_path)
    with h5py.File(tmp_path / "how2sign.keypoints.train.1.h5", "a") as f:
        f["vid01"].create_dataset("vid00_0-5-rgb_front", data=np.zeros((2, 208), np.float16))
    with pytest.raises(InputError) as err:
        JsaltFeatures.open(path)
    text = str(err.value)
    assert "\n" not in text and "stored twice" in text
    assert "train.0.h5:vid00/vid00_0-5-rgb_front" in text and "train.1.h5:vid01/vid00_0-5-rgb_front" in text
    path.write_text(json.dumps({"vid00": 0, "ghost": 0}))
    with pytest.raises(InputError, match="'ghost'"):
        JsaltFeatures.open(path)
    path.write_text(json.dumps({"vid00": 7}))
    with pytest.raises(InputError, match="shard 7"):
        JsaltFeatures.open(path)
    with pytest.raises(InputError, match="not found"):
        JsaltFeatures.open(tmp_path / "missing.json")
