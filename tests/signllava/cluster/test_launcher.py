"""The launcher without a scheduler: bad input before submission, GPUs the machine lacks, and --local runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from signllava.cli import app
from signllava.cluster.launcher import submit

runner = CliRunner()
SLURM = Path(__file__).parents[3] / "slurm"


def test_cli_refuses_bad_input_before_submitting(tmp_path):
    cases = [
        (["submit", "pretrain-everything", "-p", str(SLURM / "local.yaml")], "unknown stage 'pretrain-everything'"),
        (["submit", "train", "-p", str(tmp_path / "none.yaml")], "profile not found"),
        (
            ["submit", "extract-poses", "-p", str(SLURM / "local.yaml"), "--set", f"inputs=[{tmp_path / 'm.txt'}]"],
            "m.txt: input (video, folder or manifest) not found",
        ),
        (
            ["submit", "train", "-p", str(SLURM / "local.yaml"), "--set", f"data.metadata=[{tmp_path / 'x.tsv'}]"],
            "x.tsv: metadata file (manifest) not found",
        ),
        (["submit", "train", "-p", str(SLURM / "local.yaml"), "--set", "optim.lr=-1"], "optim.lr=-1"),
        (
            ["submit", "pretrain-dino", "-p", str(SLURM / "local.yaml"), "--set", f"data.poses={tmp_path / 'p'}"],
            "pose folder not found (data.poses)",
        ),
        (["submit", "extract-features", "-p", str(SLURM / "local.yaml"), "--set", "stream=mae"], "needs checkpoint"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code != 0 and message in str(result.exception or result.output), (args, result.output)
    assert not list(tmp_path.rglob("jobs.jsonl"))


def test_a_run_folder_that_is_a_file_is_refused_before_submitting(tmp_path):
    (tmp_path / "run").write_text("a file\n")
    with pytest.raises(InputError, match="run: a file is in the way: an output folder goes here"):
        submit("train", SLURM / "local.yaml", overrides=[f"output_dir={tmp_path / 'run'}"], local=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_gpus_asked_of_a_machine_without_them(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    path = tmp_path / "p.yaml"
    path.write_text("defaults: {cluster: local, gpus_per_node: 2}\n")
    with pytest.raises(InputError, match="asks for 2 GPUs, this machine has 0"):
        submit("evaluate", path, overrides=[f"checkpoint={tmp_path}"])


def test_local_training_runs_in_process_and_resumes(tmp_path, train_overrides):
    run = tmp_path / "run"
    sub = submit("train", SLURM / "local.yaml", overrides=train_overrides(run, 3), local=True)
    assert sub.results[0][0]["steps"] == 3 and sub.results[0][0]["world_size"] == 1
    record = json.loads((run / "slurm" / "jobs.jsonl").read_text())
    assert record["stage"] == "train" and record["cluster"] == "debug"
    assert (run / "slurm" / "train.yaml").is_file() and (run / "slurm" / "train.profile.yaml").is_file()
    again = submit("train", SLURM / "local.yaml", overrides=train_overrides(run, 5), local=True)
    assert again.results[0][0]["steps"] == 5
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3, 4, 5]
    result = runner.invoke(app, ["jobs", str(run)])
    assert result.exit_code == 0 and result.output.count(" train (1 task") == 2 and "1 COMPLETED" in result.output
