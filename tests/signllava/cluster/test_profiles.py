"""Cluster profiles: the shipped ones, stage sections over defaults, and bad files as one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pose.errors import InputError
from signllava.cluster.profiles import Profile, check_profile, load_profile, max_array_size
from signllava.cluster.stages import STAGES

SLURM = Path(__file__).parents[3] / "slurm"


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


def fake_slurm(folder: Path, max_array_size: int | None = 1001) -> Path:
    """Stand-ins for SLURM's commands in ``folder`` (put it first on PATH): ``scontrol show config`` says
    ``MaxArraySize`` as a cluster configured with it says it (no scontrol at all: None), sinfo knows one
    partition, and sbatch refuses, so that a test never queues a job."""
    folder.mkdir(parents=True, exist_ok=True)
    scripts = {
        "sinfo": "echo local",
        "sbatch": 'echo "sbatch: the fake SLURM of a test queues nothing" >&2; exit 1',
    }
    if max_array_size is not None:
        scripts["scontrol"] = (
            'echo "Configuration data as of 2025-01-01T00:00:00"\n'
            f'echo "MaxArraySize            = {max_array_size}"\n'
            'echo "MaxJobCount             = 10000"'
        )
    for name, body in scripts.items():
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(0o755)
    return folder


@pytest.mark.parametrize("limit", [1001, 50])
def test_an_array_larger_than_the_cluster_allows_is_refused_with_the_limit(tmp_path, monkeypatch, limit):
    from pose.errors import InputError

    monkeypatch.setenv("PATH", str(fake_slurm(tmp_path / "bin", limit)))
    assert max_array_size() == limit
    where = tmp_path / "cluster.yaml"
    check_profile(Profile(array_size=limit), where, array_stage="extract-poses")  # task ids 0 .. limit - 1
    with pytest.raises(InputError) as err:
        check_profile(Profile(array_size=limit + 1), where, array_stage="extract-poses")
    assert str(err.value) == (
        f"{where}: array_size {limit + 1} is more than this cluster allows in one job array (its MaxArraySize is "
        f"{limit}); set array_size: {limit} or less in the profile (stages: extract-poses: or defaults:), each task "
        "then takes more of the inputs"
    )
    check_profile(Profile(array_size=limit + 1), where)  # a stage that is no array never uses array_size


def test_without_scontrol_the_limit_is_not_known_and_not_guessed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_slurm(tmp_path / "bin", max_array_size=None)))
    assert max_array_size() is None
    check_profile(Profile(array_size=5000), tmp_path / "p.yaml", array_stage="extract-features")


def test_submit_refuses_the_array_before_queueing_anything(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from signllava.cli import app

    monkeypatch.setenv("PATH", str(fake_slurm(tmp_path / "bin")))
    (tmp_path / "v.mp4").write_bytes(b"")
    profile = tmp_path / "big.yaml"
    profile.write_text("defaults: {cluster: slurm}\nstages:\n  extract-poses: {array_size: 4000}\n")
    args = ["submit", "extract-poses", "-p", str(profile), "--set", f"inputs=[{tmp_path / 'v.mp4'}]"]
    result = CliRunner().invoke(app, [*args, "--set", f"output={tmp_path / 'poses'}"])
    assert isinstance(result.exception, InputError) and "its MaxArraySize is 1001" in str(result.exception)
    assert not (tmp_path / "poses").exists()
