from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal

import numpy as np
import pytest

from pose.errors import InputError
from pretrain.features import open_features
from pretrain.store import FeatureStore, format_summary, summarize


def make_clips(n: int, dim: int = 16, seed: int = 0, prefix: str = "clip") -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        f"{prefix}{i:04d}": rng.standard_normal((int(rng.integers(1, 40)), dim)).astype(np.float16) for i in range(n)
    }


def write(root, stream: str, shard: str, clips: dict[str, np.ndarray], **kwargs) -> list[str]:
    with FeatureStore.writer(root, stream, shard, **kwargs) as w:
        for clip, x in clips.items():
            w.add(clip, x)
    return w.committed


def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


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


def test_float32_is_stored_as_float16_and_known_stream_dims(tmp_path):
    x = np.linspace(-3, 3, 208 * 5, dtype=np.float32).reshape(5, 208)
    write(tmp_path, "pose", "a", {"c": x})
    np.testing.assert_array_equal(FeatureStore.open(tmp_path, "pose")["c"], x.astype(np.float16))
    with pytest.raises(InputError) as err:
        write(tmp_path, "dino", "a", {"c": x})  # known stream: 1152 per frame
    assert "stream 'dino', clip 'c'" in one_line(err) and "1152" in str(err.value)


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


def _concurrent_job(root, shard, clips, barrier):
    barrier.wait()  # all writers start together
    write(root, "s", shard, clips, clips_per_part=4)


def test_concurrent_writers_into_one_root(tmp_path):
    clips = make_clips(60)
    names = list(clips)
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(6)
    jobs = [(f"job{j}", names[j::4]) for j in range(4)]
    # two more jobs sharing one shard name: O_EXCL part claims keep their parts apart
    extra = make_clips(10, seed=5, prefix="shared")
    jobs += [("same", list(extra)[:5]), ("same", list(extra)[5:])]
    clips |= extra
    procs = [
        ctx.Process(target=_concurrent_job, args=(tmp_path, shard, {c: clips[c] for c in part}, barrier))
        for shard, part in jobs
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(20)
    assert [p.exitcode for p in procs] == [0] * 6
    store = FeatureStore.open(tmp_path, "s")
    assert sorted(store.clips()) == sorted(clips)  # every clip exactly once
    for clip, x in clips.items():
        np.testing.assert_array_equal(store[clip], x)
    assert len([s for s in store.shards if s.startswith("same-")]) == 4


def test_exception_inside_writer_leaves_nothing(tmp_path):
    write(tmp_path, "s", "good", make_clips(3, prefix="g"))
    before = sorted(os.listdir(tmp_path / "s" / "shards"))
    with pytest.raises(RuntimeError), FeatureStore.writer(tmp_path, "s", "bad") as w:
        for clip, x in make_clips(5, prefix="b").items():
            w.add(clip, x)
        raise RuntimeError("job killed")
    assert sorted(os.listdir(tmp_path / "s" / "shards")) == before  # no part, no temporary file
    store = FeatureStore.open(tmp_path, "s")
    assert len(store) == 3 and not any(c.startswith("b") for c in store)


def _killed_job(root):
    with FeatureStore.writer(root, "s", "victim") as w:
        for clip, x in make_clips(4, prefix="v").items():
            w.add(clip, x)
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup runs


def test_sigkilled_writer_is_invisible_and_rerun_works(tmp_path):
    p = mp.get_context("fork").Process(target=_killed_job, args=(tmp_path,))
    p.start()
    p.join(20)
    assert p.exitcode == -signal.SIGKILL
    assert not list((tmp_path / "s" / "shards").glob("*.json"))
    with pytest.raises(InputError, match="no committed shards"):
        FeatureStore.open(tmp_path, "s")
    (summary,) = summarize(tmp_path)
    assert summary.clips == 0 and summary.leftovers == 1
    write(tmp_path, "s", "victim", make_clips(4, prefix="v"))  # the rerun
    assert len(FeatureStore.open(tmp_path, "s")) == 4


def test_resume_skips_stored_clips(tmp_path):
    clips = make_clips(10)
    names = list(clips)
    write(tmp_path, "s", "job0", {c: clips[c] for c in names[:6]})
    with FeatureStore.writer(tmp_path, "s", "job0") as w:  # the rerun of a job killed after 6 clips
        assert w.existing == set(names[:6])
        for clip in names:
            if clip in w:
                continue
            w.add(clip, clips[clip])
    assert w.committed == ["job0-00001"] and len(w) == 4
    with FeatureStore.writer(tmp_path, "s", "job0") as w:  # nothing left to do: no empty part
        assert all(c in w for c in names)
    assert w.committed == []
    assert sorted(FeatureStore.open(tmp_path, "s").clips()) == sorted(names)


def test_duplicate_clips_are_clear_errors(tmp_path):
    write(tmp_path, "s", "a", {"x": np.ones((2, 4))})
    with pytest.raises(InputError) as err, FeatureStore.writer(tmp_path, "s", "b") as w:
        w.add("x", np.ones((2, 4)))
    assert "'x'" in one_line(err) and "a-00000" in str(err.value)
    with pytest.raises(InputError, match="added twice"), FeatureStore.writer(tmp_path, "s", "b") as w:
        w.add("y", np.ones((2, 4)))
        w.add("y", np.ones((2, 4)))
    # two jobs racing on the same clip: both commit, the reader names both shards
    w1, w2 = FeatureStore.writer(tmp_path, "s", "r1"), FeatureStore.writer(tmp_path, "s", "r2")
    for w in (w1, w2):
        with w:
            w.add("z", np.zeros((1, 4)))
    with pytest.raises(InputError) as err:
        FeatureStore.open(tmp_path, "s")
    assert "clip 'z'" in one_line(err) and "r1-00000" in str(err.value) and "r2-00000" in str(err.value)


@pytest.mark.parametrize(
    ("features", "problem"),
    [
        (np.ones((3, 5)), "dim 5 but the stream's dim is 8"),
        (np.ones(8), "2-D"),
        (np.ones((2, 3, 8)), "2-D"),
        (np.full((2, 8), np.nan), "NaN or infinite"),
        (np.full((2, 8), np.inf), "NaN or infinite"),
        (np.full((2, 8), 1e6), "NaN or infinite"),  # beyond float16
        (np.array([["a"] * 8]), "numeric"),
    ],
)
def test_bad_features_are_one_line_errors(tmp_path, features, problem):
    with pytest.raises(InputError) as err, FeatureStore.writer(tmp_path, "s", "a", dim=8) as w:
        w.add("good", np.zeros((2, 8)))
        w.add("bad", features)
    text = one_line(err)
    assert "stream 's', clip 'bad'" in text and problem in text
    assert not list((tmp_path / "s" / "shards").iterdir())


def test_dim_is_fixed_per_stream_and_names_are_checked(tmp_path):
    write(tmp_path, "s", "a", {"x": np.ones((2, 4))})
    with pytest.raises(InputError, match="has dim 4"):
        FeatureStore.writer(tmp_path, "s", "b", dim=6)
    with pytest.raises(InputError, match="dim 6 but the stream's dim is 4"):
        with FeatureStore.writer(tmp_path, "s", "b") as w:
            w.add("y", np.ones((2, 6)))
    for stream, shard in [("../up", "a"), ("s", "a/b"), ("s", ".hidden"), ("", "a")]:
        with pytest.raises(InputError, match="name"):
            FeatureStore.writer(tmp_path, stream, shard)
    with pytest.raises(InputError, match="no committed shards"):
        FeatureStore.open(tmp_path, "missing")


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
