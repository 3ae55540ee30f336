"""Cluster profiles: the shipped ones, stage sections over defaults, and bad files as one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pose.errors import InputError
from signllava.cluster.profiles import Profile, load_profile
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
