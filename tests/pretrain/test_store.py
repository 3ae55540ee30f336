"""Reading a feature store: random access across shards, the merged index, truncation, worker-safe reads."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle

import numpy as np
import pytest

from pose.errors import InputError
from pretrain.features import open_features
from pretrain.store import FeatureStore, format_summary, summarize
from tests.pretrain.conftest import make_clips, write


def test_round_trip_across_shards_random_access(tmp_path):
    clips = make_clips(120)
    names = list(clips)
    for j in range(3):  # three jobs, each committing a part every 15 clips
        committed = write(tmp_path, "s", f"job{j}", {c: clips[c] for c in names[j::3]}, clips_per_part=15)
        assert committed == [f"job{j}-{p:05d}" for p in range(3)]
    store = FeatureStore.open(tmp_path, "s")
    assert len(store) == 120 and store.dim == 16 and sorted(store.clips()) == sorted(names)
    assert len(store.shards) == 9
    rng = np.random.default_rng(1)
    for clip in rng.permutation(names):
        x = store[clip]
        assert x.dtype == np.float16 and x.shape == clips[clip].shape == (store.frames(clip), 16)
        np.testing.assert_array_equal(x, clips[clip])
    assert "clip0003" in store and "nope" not in store
    with pytest.raises(KeyError, match="nope"):
        store["nope"]
    # each part is a plain .npy too
    part = np.load(tmp_path / "s" / "shards" / "job0-00000.npy", mmap_mode="r")
    assert part.dtype == np.float16 and part.shape[1] == 16
    (summary,) = summarize(tmp_path)
    total = sum(x.shape[0] for x in clips.values())
    assert (summary.stream, summary.clips, summary.frames, summary.dim, summary.shards) == ("s", 120, total, 16, 9)
    assert summary.bytes == sum(x.nbytes for x in clips.values()) + 9 * 128 and summary.leftovers == 0
    assert "s" in format_summary([summary])
    assert open_features(tmp_path, "s")["clip0000"].shape == clips["clip0000"].shape


def test_merged_index_is_written_reused_and_refreshed(tmp_path):
    write(tmp_path, "s", "a", make_clips(5))
    assert len(FeatureStore.open(tmp_path, "s")) == 5
    index = tmp_path / "s" / "index.json"
    assert index.is_file()
    write(tmp_path, "s", "b", make_clips(3, prefix="more"))  # committed after the index was written
    assert len(FeatureStore.open(tmp_path, "s", write_index=False)) == 8  # stale index detected
    FeatureStore.merge(tmp_path, "s")
    mtime = index.stat().st_mtime_ns
    store = FeatureStore.open(tmp_path, "s")  # fresh: used as is, not rewritten
    assert len(store) == 8 and index.stat().st_mtime_ns == mtime
    index.write_text("{broken")  # derived data: rebuilt, never fatal
    assert len(FeatureStore.open(tmp_path, "s")) == 8


def test_truncated_shard_is_reported(tmp_path):
    write(tmp_path, "s", "a", {"x": np.ones((2, 4)), "y": np.ones((3, 4))})
    store = FeatureStore.open(tmp_path, "s")
    data = tmp_path / "s" / "shards" / "a-00000.npy"
    os.truncate(data, data.stat().st_size - 2)
    with pytest.raises(InputError, match="truncated at clip 'y'"):
        store["y"]
    assert store["x"].shape == (2, 4)


def _sum_in_child(store, clips, out):
    out.put(sum(float(store[c].astype(np.float32).sum()) for c in clips))


def test_worker_safe_reads(tmp_path):
    torch = pytest.importorskip("torch")
    clips = make_clips(40)
    write(tmp_path, "s", "a", dict(list(clips.items())[:20]))
    write(tmp_path, "s", "b", dict(list(clips.items())[20:]))
    store = FeatureStore.open(tmp_path, "s")
    names = store.clips()
    store[names[0]], store[names[-1]]  # the parent holds open descriptors before forking

    class Clips(torch.utils.data.Dataset):
        def __len__(self):
            return len(names)

        def __getitem__(self, i):
            return names[i], torch.from_numpy(store[names[i]].astype(np.float32)).sum()

    loader = torch.utils.data.DataLoader(Clips(), batch_size=4, num_workers=2, multiprocessing_context="fork")
    got = {n: float(s) for batch_names, sums in loader for n, s in zip(batch_names, sums, strict=True)}
    assert got.keys() == set(names)
    for n in names:
        assert got[n] == pytest.approx(float(clips[n].astype(np.float32).sum()), rel=1e-5, abs=1e-3)
    # a pickled store (spawn-started workers) carries no descriptors and opens its own
    copy = pickle.loads(pickle.dumps(store))
    assert copy._fds == {} and np.array_equal(copy[names[3]], clips[names[3]])
    # plain multiprocessing after fork, reading while the parent keeps reading
    q = mp.get_context("fork").Queue()
    p = mp.get_context("fork").Process(target=_sum_in_child, args=(store, names, q))
    p.start()
    parent = sum(float(store[c].astype(np.float32).sum()) for c in names)
    assert q.get(timeout=20) == pytest.approx(parent)
    p.join(20)
    assert p.exitcode == 0


def test_pread_fallback_without_preadv(tmp_path, monkeypatch):
    import pretrain.store as store_module

    clips = make_clips(5)
    write(tmp_path, "s", "a", clips)
    monkeypatch.setattr(store_module, "_pread_into", store_module._pread_copy)  # as on systems without preadv
    store = FeatureStore.open(tmp_path, "s")
    for clip, x in clips.items():
        np.testing.assert_array_equal(store[clip], x)
