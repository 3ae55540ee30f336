"""What became of submitted jobs, without a scheduler: recorded outcomes, submitit's result files,
the lines of `signllava jobs`, extraction shards, and waiting."""

from __future__ import annotations

import json
import pickle

import pytest

from pose.config_loader import save_config
from pose.errors import InputError
from signllava.cluster.job_status import job_status, records, status_lines, wait
from signllava.cluster.launcher import JOBS_FILE
from signllava.cluster.stages import ExtractPosesConfig
from tests.conftest import Payload


def result(logs, key: str, outcome: str, value) -> None:
    """What submitit leaves when task 0 of job ``key`` returns (``success``) or raises (``error``)."""
    folder = logs / key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{key}_0_result.pkl").write_bytes(pickle.dumps((outcome, value)))


def submitted(run, *recs: dict) -> None:
    logs = run / "slurm"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / JOBS_FILE, "a") as f:
        for rec in recs:
            f.write(json.dumps({"submitted": "2025-01-02T03:04:05", "cluster": "local"} | rec) + "\n")


def test_states_come_from_the_record_or_the_result_files(tmp_path):
    local = job_status(tmp_path, {"stage": "train", "job_id": "5", "tasks": 1, "state": "COMPLETED"})
    assert [(t.key, t.state) for t in local.tasks] == [("5", "COMPLETED")] and local.finished
    result(tmp_path, "7_0", "success", {"steps": 3})
    result(tmp_path, "7_1", "error", "Traceback (most recent call last):\n  ...\nValueError: boom\n")
    (tmp_path / "7_3").mkdir()
    (tmp_path / "7_3" / "7_3_0_result.pkl").write_bytes(b"half a pickle")
    status = job_status(tmp_path, {"stage": "extract-poses", "job_id": "7", "tasks": 4, "cluster": "local"})
    assert [(t.key, t.state, t.error) for t in status.tasks] == [
        ("7_0", "COMPLETED", ""),
        ("7_1", "FAILED", "ValueError: boom"),  # the exception's last line
        ("7_2", "UNKNOWN", ""),  # no result file yet: still running, or killed from outside
        ("7_3", "UNKNOWN", ""),  # an unreadable one says no more
    ]
    assert status.counts() == {"COMPLETED": 1, "FAILED": 1, "UNKNOWN": 2} and not status.finished
    gone = job_status(tmp_path, {"stage": "retired-stage", "job_id": "7", "tasks": 2, "cluster": "local"})
    assert [t.key for t in gone.tasks] == ["7_0", "7_1"]  # a stage this version lacks: an array if several tasks


def test_the_jobs_lines_of_a_run(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(InputError, match="run: no jobs were submitted for this run"):
        status_lines(run)
    submitted(run, {"stage": "train", "job_id": "11", "tasks": 1, "state": "COMPLETED"})
    submitted(run, {"stage": "train", "job_id": "12", "tasks": 1})
    result(run / "slurm", "12", "error", "Traceback ...\nInputError: data.metadata is empty\n")
    logs, recs = records(run)
    assert logs == run / "slurm" and [r["job_id"] for r in recs] == ["11", "12"]
    assert status_lines(run) == [
        "job 11 train (1 task, submitted 2025-01-02T03:04:05): 1 COMPLETED",
        f"  logs: {logs / '11'}",
        "job 12 train (1 task, submitted 2025-01-02T03:04:05): 1 FAILED",
        "  12 failed: InputError: data.metadata is empty",
        f"  logs: {logs / '12'}",
    ]


def test_extraction_shards_are_counted_from_the_outputs(tmp_path):
    videos, run = tmp_path / "videos", tmp_path / "poses"
    videos.mkdir()
    for name in ("a", "b", "c", "d"):
        (videos / f"{name}.mp4").write_bytes(b"")  # planned by name: never opened
    save_config(ExtractPosesConfig(inputs=[str(videos)], output=str(run)), run / "slurm" / "extract-poses.yaml")
    submitted(run, {"stage": "extract-poses", "job_id": "20", "tasks": 2})
    for name in ("a", "c", "b"):  # shard 0 has a and c (done); shard 1 has b (done) and d (not)
        (run / f"{name}.pose").write_bytes(b"")
    lines = status_lines(run)
    assert lines[-2:] == ["shards: 1 done, 0 with failures, 1 missing [1]", "videos: 3 of 4 have poses"]
    shards = run / "slurm" / "shards"
    shards.mkdir()
    (shards / "shard-00001.json").write_text(json.dumps({"done": 1, "failed": ["d.mp4"]}))
    assert status_lines(run)[-2] == "shards: 1 done, 1 with failures [1], 0 missing"
    assert lines[0].startswith("job 20 extract-poses (2 tasks, ") and lines[1] == f"  logs: {run / 'slurm' / '20_*'}"


def test_waiting_ends_when_every_task_has_or_at_the_timeout(tmp_path):
    record = {"stage": "train", "job_id": "30", "tasks": 1, "cluster": "local"}
    with pytest.raises(TimeoutError, match=r"job 30 not finished after 0 s: \{'UNKNOWN': 1\}"):
        wait(tmp_path, record, poll_s=0.01, timeout_s=0.05)
    result(tmp_path, "30", "success", None)
    assert [t.state for t in wait(tmp_path, record, poll_s=0.01, timeout_s=5).tasks] == ["COMPLETED"]


def test_result_files_from_elsewhere_are_read_without_running_them(tmp_path):
    """A run folder handed over by someone else: its result files say how the jobs ended, and run nothing."""
    marker = tmp_path / "ran"
    result(tmp_path, "9_0", "success", {"summary": Payload(marker)})
    result(tmp_path, "9_1", "error", Payload(marker))
    status = job_status(tmp_path, {"stage": "extract-poses", "job_id": "9", "tasks": 2, "cluster": "local"})
    assert [(t.key, t.state) for t in status.tasks] == [("9_0", "COMPLETED"), ("9_1", "FAILED")]
    assert "system, not loaded" in status.tasks[1].error
    assert not marker.exists()
