"""The launcher without a scheduler: profiles, bad input before submission, and --local runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from signllava.cli import app
from signllava.launcher import submit
from signllava.profiles import Profile, load_profile
from signllava.stage_jobs import StopFlag
from signllava.stages import STAGES

runner = CliRunner()
SLURM = Path(__file__).parents[2] / "slurm"


@pytest.mark.parametrize("name", ["local.yaml", "cluster.yaml"])
def test_shipped_profiles_load_for_every_stage(name):
    for stage in STAGES:
        profile = load_profile(SLURM / name, stage)
        assert isinstance(profile, Profile) and profile.executor_parameters()["timeout_min"] > 0
    assert load_profile(SLURM / "local.yaml", "train").tasks_per_node == 2
    assert load_profile(SLURM / "cluster.yaml", "extract-poses").array_size == 64


def test_stage_section_overrides_defaults(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "defaults: {partition: a, time_min: 10, sbatch: {mail-type: END}}\nstages:\n  train: {partition: b}\n"
    )
    train, evaluate = load_profile(path, "train"), load_profile(path, "evaluate")
    assert (train.partition, train.time_min, evaluate.partition) == ("b", 10, "a")
    assert train.executor_parameters()["slurm_additional_parameters"] == {"mail-type": "END"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("defaults: {partitoin: gpu}\n", "unknown field defaults.partitoin"),
        ("stages:\n  train: {gpus: 2}\n", "unknown field stages.train.gpus"),
        ("stages:\n  pretrain-everything: {}\n", "unknown stage 'pretrain-everything' in stages"),
        ("defaults: {nodes: 0}\n", "nodes=0 is invalid"),
        ("defaults: {cluster: kubernetes}\n", "cluster='kubernetes' is invalid"),
        ("partition: gpu\n", "a profile has two sections, defaults and stages"),
        ("defaults: [\n", "not a valid YAML profile"),
    ],
)
def test_bad_profiles_are_one_line_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        load_profile(path, "train")
    assert str(path) in str(err.value) and "\n" not in str(err.value)


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


def test_stop_flag_records_usr2_and_restores_the_handler():
    import os
    import signal

    seen = []
    previous = signal.signal(signal.SIGUSR2, lambda s, f: seen.append(s))
    try:
        with StopFlag() as flag:
            assert not flag(0)
            os.kill(os.getpid(), signal.SIGUSR2)
            assert flag(1) and not seen  # recorded, not acted on
            flag.forward()
            assert seen == [signal.SIGUSR2]  # handed on to the handler that was there before
        os.kill(os.getpid(), signal.SIGUSR2)
        assert seen == [signal.SIGUSR2] * 2
    finally:
        signal.signal(signal.SIGUSR2, previous)
