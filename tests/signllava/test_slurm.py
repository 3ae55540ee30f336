"""Real jobs on a real SLURM controller (CI starts one with slurm/cluster.sh; elsewhere they skip)."""

from __future__ import annotations

import json
import pickle
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from signllava.cli import app
from signllava.cluster.job_status import job_status, status_lines, wait
from signllava.cluster.launcher import submit
from tests.conftest import realdata

pytestmark = pytest.mark.slurm
runner = CliRunner()
PROFILE = Path(__file__).parents[2] / "slurm" / "local.yaml"


def results(sub) -> list:
    """Every task's submitit result (a task that raised fails the test with its traceback)."""
    out = []
    for task in sorted(sub.logs.glob(f"{sub.job_ids[0]}/{sub.job_ids[0]}_*_result.pkl")):
        outcome, value = pickle.loads(task.read_bytes())
        assert outcome == "success", value
        out.append(value)
    return out


def steps_logged(run: Path) -> list[int]:
    path = run / "metrics.jsonl"
    return [json.loads(line)["step"] for line in path.read_text().splitlines()] if path.is_file() else []


def wait_until(condition, timeout: float, what: str) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_extract_poses_array_over_real_clips(slurm, tmp_path):
    clips = sorted(realdata("how2sign", "clips").glob("*.mp4"), key=lambda p: p.stat().st_size)[:4]
    manifest = tmp_path / "clips.txt"
    manifest.write_text("".join(f"{p.resolve()}\n" for p in clips))
    out = tmp_path / "poses"
    result = runner.invoke(
        app, ["submit", "extract-poses", "-p", str(PROFILE), "--set", f"inputs=[{manifest}]", "--set", f"output={out}"]
    )
    assert result.exit_code == 0, result.output
    assert "submitted job" in result.output and f"signllava jobs {out}" in result.output
    logs = out / "slurm"
    record = json.loads((logs / "jobs.jsonl").read_text().splitlines()[-1])
    assert record["tasks"] == 2
    status = wait(logs, record, timeout_s=600)
    assert [t.state for t in status.tasks] == ["COMPLETED", "COMPLETED"]
    poses = sorted(p.name for p in out.rglob("*.pose"))
    assert poses == sorted(p.with_suffix(".pose").name for p in clips)  # every clip once, nothing else
    shards = [json.loads((logs / "shards" / f"shard-0000{i}.json").read_text()) for i in range(2)]
    assert sum(s["done"] for s in shards) == 4 and all(s["done"] == 2 and not s["failed"] for s in shards)
    lines = status_lines(out)
    assert "shards: 2 done, 0 with failures, 0 missing" in lines and "videos: 4 of 4 have poses" in lines


def test_ddp_training_job_uses_both_ranks(slurm, tmp_path, train_overrides):
    run = tmp_path / "run"
    sub = submit("train", PROFILE, overrides=train_overrides(run, 12))
    status = wait(sub.logs, sub.record, timeout_s=600)
    assert [t.state for t in status.tasks] == ["COMPLETED"], status_lines(run)
    summaries = results(sub)
    assert sorted((s["rank"], s["world_size"]) for s in summaries) == [(0, 2), (1, 2)]
    assert all(s["steps"] == 12 for s in summaries)
    losses = [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(losses) == 12 and sum(losses[-3:]) < sum(losses[:3])
    assert json.loads((run / "last" / "meta.json").read_text())["step"] == 12


def test_preempted_training_checkpoints_requeues_and_resumes(slurm, tmp_path, train_overrides):
    run = tmp_path / "run"
    steps = 150
    sub = submit("train", PROFILE, overrides=train_overrides(run, steps))
    job = sub.job_ids[0]
    wait_until(lambda: len(steps_logged(run)) >= 5, 300, "training to start")
    subprocess.run(["scancel", "--signal=USR2", job], check=True)  # what a preempting cluster sends
    status = wait(sub.logs, sub.record, timeout_s=600)
    assert [t.state for t in status.tasks] == ["COMPLETED"], status_lines(run)
    assert status.tasks[0].restarts == 1
    log = (sub.logs / job / f"{job}_0_log.out").read_text()
    assert "USR2 received" in log and "requeueing (restart 1" in log
    resumed = [int(line.rsplit(" ", 1)[1]) for line in log.splitlines() if line.startswith("resumed from")]
    assert len(resumed) == 1 and 5 <= resumed[0] < steps, log
    assert f"checkpoint saved at step {resumed[0]}" in log
    # no completed step lost, none done twice: the step counter runs on from the checkpoint
    assert steps_logged(run) == list(range(1, steps + 1))
    assert json.loads((run / "last" / "meta.json").read_text())["step"] == steps


def test_cancelled_job_is_reported(slurm, tmp_path, train_overrides):
    run = tmp_path / "run"
    sub = submit("train", PROFILE, overrides=train_overrides(run, 100000))
    job = sub.job_ids[0]
    wait_until(lambda: job_status(sub.logs, sub.record).tasks[0].state == "RUNNING", 300, "the job to run")
    subprocess.run(["scancel", job], check=True)
    status = wait(sub.logs, sub.record, timeout_s=120)
    assert status.tasks[0].state == "CANCELLED"
    result = runner.invoke(app, ["jobs", str(run)])
    assert result.exit_code == 0
    assert f"job {job} train (1 task" in result.output and "1 CANCELLED" in result.output
    assert f"{job} was cancelled: rerun the same submit command" in result.output


def test_gpus_on_a_cpu_only_cluster_are_refused(slurm, tmp_path, train_overrides):
    profile = tmp_path / "gpu.yaml"
    profile.write_text("defaults: {partition: local}\nstages:\n  train: {gpus_per_node: 1}\n")
    with pytest.raises(InputError, match="asks for 1 GPUs per node, but partition local has no GPUs per node"):
        submit("train", profile, overrides=train_overrides(tmp_path / "run", 2))
    assert not (tmp_path / "run" / "slurm" / "jobs.jsonl").exists()  # nothing was submitted


def test_ddp_pretraining_job_uses_both_ranks(slurm, tmp_path, synth_data):
    run = tmp_path / "s2v"
    overrides = [
        f"data.poses={synth_data / 'poses'}",
        "model.size=tiny",
        "model.max_frames=80",
        "optim.max_steps=4",
        "optim.batch_size=2",
        "log_every=1",
        f"output_dir={run}",
    ]
    sub = submit("pretrain-sign2vec", PROFILE, overrides=overrides)  # local.yaml: 2 tasks
    status = wait(sub.logs, sub.record, timeout_s=600)
    assert [t.state for t in status.tasks] == ["COMPLETED"], status_lines(run)
    summaries = results(sub)
    assert sorted((s["rank"], s["world_size"]) for s in summaries) == [(0, 2), (1, 2)]
    assert all(s["steps"] == 4 for s in summaries) and steps_logged(run) == [1, 2, 3, 4]
    assert (run / "last" / "model.safetensors").is_file()
