from __future__ import annotations

import json
import multiprocessing as mp

import numpy as np
import pytest

from pose.errors import InputError
from pretrain.features import open_features
from pretrain.store import FeatureStore

h5py = pytest.importorskip("h5py")
from pretrain.jsalt import JsaltFeatures, clip_key, import_jsalt  # noqa: E402


def jsalt_layout(folder, dataset="how2sign", stream="keypoints", split="train", dim=208, shards=2, videos=5):
    """The original layout: <dataset>.<stream>.<split>.<n>.h5 of {video: {clip: (T, D)}} + a JSON index,
    with clip names unique across videos (How2Sign's SENTENCE_NAMEs); ``clips`` is keyed video/clip."""
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
            clips[f"{video}/{clip}"] = x
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
        for key, x in clips.items():
            video, clip = key.split("/")
            assert src.frames(key) == x.shape[0] and src.video(key) == video
            y = src[key]
            assert y.dtype == np.float16
            np.testing.assert_array_equal(y, x)
            np.testing.assert_array_equal(src[clip], x)  # a clip name no other video has reads too
            assert clip in src and src.frames(clip) == x.shape[0]
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
    with h5py.File(tmp_path / "how2sign.keypoints.train.1.h5", "a") as f:  # vid00 is in shard 0
        f.create_group("vid00").create_dataset("vid00_0-5-rgb_front", data=np.zeros((2, 208), np.float16))
    assert len(JsaltFeatures.open(path)) == 15  # the index sends vid00 to shard 0 only
    index = path.read_text()
    path.unlink()  # without it, every shard is read whole
    with pytest.raises(InputError) as err:
        JsaltFeatures.open(tmp_path / "how2sign.keypoints.train.0.h5")
    text = str(err.value)
    assert "\n" not in text and "stored twice" in text
    assert "train.0.h5:vid00/vid00_0-5-rgb_front" in text and "train.1.h5:vid00/vid00_0-5-rgb_front" in text
    path.write_text(index)
    path.write_text(json.dumps({"vid00": 0, "ghost": 0}))
    with pytest.raises(InputError, match="'ghost'"):
        JsaltFeatures.open(path)
    path.write_text(json.dumps({"vid00": 7}))
    with pytest.raises(InputError, match="shard 7"):
        JsaltFeatures.open(path)
    with pytest.raises(InputError, match="not found"):
        JsaltFeatures.open(tmp_path / "missing.json")


@pytest.mark.parametrize("number", ["Infinity", "2.5", "-1", "true", "[0]", '"x"'])
def test_an_index_whose_shard_number_names_no_shard_is_one_line(tmp_path, number):
    """Found by benchmarks/fuzz.py: JSON's Infinity raised OverflowError in int(); 2.5 read as shard 2."""
    path, _ = jsalt_layout(tmp_path)
    path.write_text('{"vid00": 0, "vid01": ' + number + "}")
    with pytest.raises(InputError, match=r"not a JSALT index \{video_id: shard number\}: video 'vid01' has shard"):
        JsaltFeatures.open(path)
    path.write_text('{"vid00": "0", "vid01": 1}')  # digits as text name a shard too
    assert len(JsaltFeatures.open(path)) == 6


def test_a_name_that_is_not_utf8_is_one_line(tmp_path):
    """Found by benchmarks/fuzz.py: h5py gives a name that is not UTF-8 as bytes, which keyed its clips
    ``b'...'/clip_1`` and then failed sorting them against the others (TypeError)."""
    with h5py.File(tmp_path / "pose.train.0.h5", "w") as f:
        f.create_group("vid00").create_dataset("clip_1", data=np.zeros((3, 4), np.float16))
        f.create_group(b"\xff\xfe").create_dataset("clip_1", data=np.zeros((3, 4), np.float16))
    with pytest.raises(InputError, match=r"pose\.train\.0\.h5: the HDF5 name b'\\xff\\xfe' is not UTF-8 text"):
        JsaltFeatures.open(tmp_path / "pose.train.0.h5")


def original_layout(
    folder, stream="pose", split="train", dim=8, videos=(3, 2, 4), per_shard=2, index=None, first_video=1
):
    """Shards as the original's mock-data script lays them out: ``<stream>/<stream>.<split>.<n>.h5``
    of ``{video_<i>: {clip_<j>: float16 (T, D)}}``, ``clip_1``, ``clip_2`` ... in every video, and no
    JSON index unless ``index="metadata"`` (``metadata_<stream>.<split>.json``, the script's name).
    Returns the stream folder and the features ``{(video, clip): (T, D)}``."""
    folder = folder / stream
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(first_video)
    features, shard_of = {}, {}
    files = {}
    for v, n_clips in enumerate(videos):
        video, n = f"video_{first_video + v}", v // per_shard
        if n not in files:
            files[n] = h5py.File(folder / f"{stream}.{split}.{n}.h5", "w")
        shard_of[video] = n
        group = files[n].create_group(video)
        for c in range(1, n_clips + 1):
            x = rng.random((int(rng.integers(5, 30)), dim)).astype(np.float16)
            group.create_dataset(f"clip_{c}", data=x)
            features[video, f"clip_{c}"] = x
    for f in files.values():
        f.close()
    if index == "metadata":
        (folder / f"metadata_{stream}.{split}.json").write_text(json.dumps(shard_of))
    return folder, features


def test_clip_names_repeat_across_videos_and_there_is_no_index(tmp_path):
    folder, features = original_layout(tmp_path)
    assert not list(folder.glob("*.json"))
    src = JsaltFeatures.open(folder / "pose.train.1.h5")  # any shard: its siblings are the index
    assert src.shards == ["pose.train.0.h5", "pose.train.1.h5"] and src.name == "pose.train" and src.stream == "pose"
    assert len(src) == len(features) == 9 and src.dim == 8
    assert sorted(src.clips()) == sorted(clip_key(v, c) for v, c in features)
    for (video, clip), x in features.items():
        key = clip_key(video, clip)
        assert key == f"{video}/{clip}" and src.video(key) == video and src.frames(key) == len(x)
        np.testing.assert_array_equal(src[key], x)
    assert "clip_1" not in src  # in three videos: which one is meant is not known
    with pytest.raises(KeyError, match="video/clip"):
        src["clip_1"]
    src.close()


def test_the_originals_metadata_index_finds_its_shards(tmp_path):
    folder, features = original_layout(tmp_path, stream="sign2vec", index="metadata")
    src = JsaltFeatures.open(folder / "metadata_sign2vec.train.json")
    assert src.shards == ["sign2vec.train.0.h5", "sign2vec.train.1.h5"] and src.stream == "sign2vec"
    assert len(src) == len(features)
    np.testing.assert_array_equal(src["video_3/clip_4"], features["video_3", "clip_4"])
    assert isinstance(open_features(folder / "metadata_sign2vec.train.json"), JsaltFeatures)


def test_import_keys_clips_by_video_and_clip(tmp_path):
    folder, features = original_layout(tmp_path)
    root = tmp_path / "store"
    assert import_jsalt(folder / "pose.train.0.h5", root, "pose", clips_per_part=4) == 9
    store = FeatureStore.open(root, "pose")
    assert sorted(store.clips()) == sorted(clip_key(v, c) for v, c in features)
    for (video, clip), x in features.items():
        np.testing.assert_array_equal(store[clip_key(video, clip)], x)
    assert import_jsalt(folder / "pose.train.0.h5", root, "pose") == 0  # resumed: all there


@pytest.mark.parametrize(
    "make,problem",
    [
        (lambda g: g.create_dataset("clip_9", data=np.zeros((4, 8, 2), np.float16)), r"shape \(4, 8, 2\)"),
        (lambda g: g.create_dataset("clip_9", data=np.zeros(4, np.float16)), r"shape \(4,\)"),
        (lambda g: g.create_group("clip_9").create_dataset("x", data=np.zeros((2, 8))), "a group"),
    ],
)
def test_a_clip_that_is_not_2d_is_one_line_naming_file_and_clip(tmp_path, make, problem):
    folder, _ = original_layout(tmp_path)
    with h5py.File(folder / "pose.train.1.h5", "a") as f:
        make(f["video_3"])
    with pytest.raises(InputError, match=problem) as err:
        import_jsalt(folder / "pose.train.0.h5", tmp_path / "store", "pose")
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(folder / "pose.train.1.h5"))
    assert "pose.train.1.h5:video_3/clip_9 is not a 2-D (frames, dim) dataset" in text
    assert not (tmp_path / "store").exists()  # refused before anything was written
