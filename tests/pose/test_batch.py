from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pose.batch import plan, read_manifest, run_batch
from pose.config import ExtractConfig
from pose.errors import InputError
from pose.io import TMP_PREFIX, read_pose
from tests.conftest import write_video


def make_folder(root: Path, n: int, frames: int = 6) -> list[Path]:
    videos = []
    for i in range(n):
        sub = root / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        videos.append(write_video(sub / f"v{i}.mp4", frames=frames + i))
    return videos


def test_plan_mirrors_folders_and_shards_partition(tmp_path):
    make_folder(tmp_path / "in", 7)
    full = plan([tmp_path / "in"], tmp_path / "out", ExtractConfig())
    assert len(full) == 7
    assert {j.output.relative_to(tmp_path / "out").parent.name for j in full} == {"a", "b"}
    shards = [plan([tmp_path / "in"], tmp_path / "out", ExtractConfig(shard=i, num_shards=3)) for i in range(3)]
    outputs = [j.output for s in shards for j in s]
    assert sorted(outputs) == sorted(j.output for j in full)  # disjoint and complete
    assert {len(s) for s in shards} == {2, 3}


def test_manifest_tsv_and_txt(tmp_path):
    videos = make_folder(tmp_path, 3)
    txt = tmp_path / "list.txt"
    txt.write_text("# comment\n" + "\n".join(str(v.relative_to(tmp_path)) for v in videos) + "\n\n")
    assert read_manifest(txt) == [tmp_path / v.relative_to(tmp_path) for v in videos]
    tsv = tmp_path / "list.tsv"
    tsv.write_text("SENTENCE_NAME\tvideo_path\n" + "".join(f"s{i}\t{v}\n" for i, v in enumerate(videos)))
    assert read_manifest(tsv) == videos
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="bad.tsv: manifest has no video path column"):
        read_manifest(bad)


def test_a_manifest_row_is_quoted_by_an_excerpt(tmp_path):
    manifest = tmp_path / "list.txt"
    manifest.write_text("clip" * 50_000 + ".txt\n")  # one huge "path" that is no video
    with pytest.raises(InputError, match=r"list.txt: row 1: 'clipclip.*…' is not a file name of the inputs") as err:
        read_manifest(manifest)
    assert len(err.value.problem) < 200


def test_colliding_output_names_are_refused(tmp_path):
    write_video(tmp_path / "x" / "same.mp4", frames=2)
    write_video(tmp_path / "y" / "same.mp4", frames=2)
    with pytest.raises(InputError, match="collides"):
        plan([tmp_path / "x" / "same.mp4", tmp_path / "y" / "same.mp4"], tmp_path / "out", ExtractConfig())


def test_an_output_folder_that_is_a_file_is_refused_before_any_video(tmp_path):
    make_folder(tmp_path / "in", 1)
    (tmp_path / "out").write_text("a file\n")
    with pytest.raises(InputError, match="out: a file is in the way: an output folder goes here"):
        run_batch([tmp_path / "in"], tmp_path / "out", ExtractConfig(), progress=False)
    with pytest.raises(InputError, match="out: a file, not a folder"):
        run_batch([tmp_path / "in"], tmp_path / "out" / "poses", ExtractConfig(), progress=False)
    assert (tmp_path / "out").read_text() == "a file\n"


def test_failures_are_summarized_without_stopping(tmp_path):
    videos = make_folder(tmp_path / "in", 3)
    (tmp_path / "in" / "broken.mp4").write_bytes(b"\x00garbage" * 100)
    report = run_batch([tmp_path / "in"], tmp_path / "out", ExtractConfig(), progress=False)
    assert len(report.done) == 3 and len(report.failed) == 1
    assert "broken.mp4: not a readable video" in report.failed[0].error
    assert all("no signer" in o.warning for o in report.done)
    for v in videos:
        out = tmp_path / "out" / v.parent.name / f"v{v.stem[1:]}.pose"
        assert len(read_pose(out).body.data) > 0
    again = run_batch([tmp_path / "in"], tmp_path / "out", ExtractConfig(), progress=False)
    assert len(again.skipped) == 3 and len(again.done) == 0 and len(again.failed) == 1


def test_a_video_another_run_is_extracting_is_left_to_it_and_counted(tmp_path):
    from pose.io import claim

    make_folder(tmp_path / "in", 3)
    held = tmp_path / "out" / "a" / "v1.pose"
    with claim(held) as mine:  # another run, extracting v1 now
        assert mine
        report = run_batch([tmp_path / "in"], tmp_path / "out", ExtractConfig(), progress=False)
    assert report.busy == [str(held)] and len(report.done) == 2 and not report.failed and not held.exists()
    assert "2 extracted, 0 already done (skipped), 1 being extracted by another run (skipped), 0 failed" in (
        report.summary()
    )
    again = run_batch([tmp_path / "in"], tmp_path / "out", ExtractConfig(), progress=False)
    assert [o.output for o in again.done] == [str(held)] and len(again.skipped) == 2 and not again.busy


def test_two_runs_on_one_folder_at_once_extract_each_video_once(tmp_path):
    """Two extract-poses on the same videos at once: each video is extracted by one of them, the other
    leaves it (being extracted, or found done); no partial or lock file is left."""
    videos = make_folder(tmp_path / "in", 6, frames=30)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "signllava", "extract-poses", str(tmp_path / "in"), "-o", str(out), "-q", "-w", "1"]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    summaries = [run.communicate(timeout=600)[0].strip().splitlines()[-1] for run in runs]
    assert all(run.returncode == 0 for run in runs), summaries
    extracted = [int(line.split(" extracted")[0]) for line in summaries]
    assert sum(extracted) == len(videos), summaries  # none twice
    assert len(list(out.rglob("*.pose"))) == len(videos)
    assert not list(out.rglob(".*")), "no partial or lock file is left"


def test_two_workers(tmp_path):
    make_folder(tmp_path / "in", 4)
    report = run_batch([tmp_path / "in"], tmp_path / "out", ExtractConfig(workers=2), progress=False)
    assert len(report.done) == 4 and not report.failed
    assert report.frames == sum(6 + i for i in range(4))


def test_killed_batch_resumes_with_every_output_once(tmp_path):
    """Kill a running batch, plant a partial file as a kill mid-write leaves, rerun: all outputs
    exist exactly once, each complete, and no temporary file is left."""
    videos = make_folder(tmp_path / "in", 6, frames=40)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "signllava", "extract-poses", str(tmp_path / "in"), "-o", str(out), "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.rglob("*.pose")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {p for p in out.rglob("*.pose")}
    assert 0 < len(first) < len(videos), "the kill should land mid-batch"
    missing = next(v for v in videos if out / v.parent.name / (v.stem + ".pose") not in first)
    partial = out / missing.parent.name / f"{TMP_PREFIX}{missing.stem}.pose.abc123"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"half a file")
    mtimes = {p: p.stat().st_mtime_ns for p in first}

    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    outputs = sorted(out.rglob("*.pose"))
    assert len(outputs) == len(videos)
    assert not list(out.rglob(TMP_PREFIX + "*"))
    for p in outputs:
        assert len(read_pose(p).body.data) > 0
    assert all(p.stat().st_mtime_ns == t for p, t in mtimes.items())  # finished work was not redone
    assert f"{len(videos) - len(first)} extracted, {len(first)} already done" in result.stdout
