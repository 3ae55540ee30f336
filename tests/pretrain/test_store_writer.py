"""Writing a feature store: parts committed atomically beside other jobs, resumable, and bad clips
refused in one line before anything is written."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal

import numpy as np
import pytest

from pose.errors import InputError
from pretrain.store import FeatureStore, summarize
from tests.pretrain.conftest import make_clips, one_line, write


def test_float32_is_stored_as_float16_and_known_stream_dims(tmp_path):
    x = np.linspace(-3, 3, 208 * 5, dtype=np.float32).reshape(5, 208)
    write(tmp_path, "pose", "a", {"c": x})
    np.testing.assert_array_equal(FeatureStore.open(tmp_path, "pose")["c"], x.astype(np.float16))
    with pytest.raises(InputError) as err:
        write(tmp_path, "dino", "a", {"c": x})  # known stream: 1152 per frame
    assert "stream 'dino', clip 'c'" in one_line(err) and "1152" in str(err.value)


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
