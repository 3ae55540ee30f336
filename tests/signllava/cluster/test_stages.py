"""The stage registry: one table from which submit, jobs, show-config and the CLI's stage options come."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from signllava.cli import app
from signllava.cluster.stages import STAGES, Stage, get_stage, register

runner = CliRunner()
SLURM = Path(__file__).parents[3] / "slurm"


def test_every_stage_has_a_schema_a_job_and_a_run_folder():
    assert set(STAGES) == {
        "extract-poses",
        "import-keypoints",
        "pretrain-sign2vec",
        "pretrain-dino",
        "pretrain-mae",
        "extract-features",
        "train",
        "evaluate",
    }
    for stage in STAGES.values():
        assert dataclasses.is_dataclass(stage.schema) and callable(stage.job) and callable(stage.run_folder)
    assert [name for name, s in STAGES.items() if s.array] == ["extract-poses", "import-keypoints", "extract-features"]
    assert STAGES["pretrain-dino"].config(None, []).objective == "dino"


def test_a_taken_or_malformed_name_is_refused():
    stage = STAGES["train"]
    with pytest.raises(ValueError, match="already registered"):
        register(stage)
    with pytest.raises(ValueError, match="lowercase"):
        register(dataclasses.replace(stage, name="Train 2"))
    with pytest.raises(InputError, match="unknown stage 'trian'"):
        get_stage("trian")
    assert isinstance(stage, Stage)


def test_stage_two_is_one_preset_for_train_and_submit(tmp_path):
    cfg = STAGES["train"].config(None, ["init_from=runs/s1/last"], variant="2")
    assert cfg.lora.enabled and cfg.optim.lr == 2e-5 and cfg.init_from == "runs/s1/last"
    assert not STAGES["train"].config(None, [], variant="1").lora.enabled
    with pytest.raises(InputError, match="give --init-from"):
        STAGES["train"].config(None, [], variant="2")
    with pytest.raises(InputError, match="no variant"):
        STAGES["train"].config(None, [], variant="3")
    # the same words from both commands: train --stage 2 and submit train --stage 2
    for args in (["train", "--stage", "2"], ["submit", "train", "-p", str(SLURM / "local.yaml"), "--stage", "2"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and "give --init-from RUN/last" in str(result.exception), args


def test_the_cli_lists_the_registry_s_stages():
    from signllava.cli import SUBMIT_STAGES

    assert list(SUBMIT_STAGES) == list(STAGES)


def test_show_config_knows_every_registered_stage():
    for name in STAGES:
        result = runner.invoke(app, ["show-config", name])
        assert result.exit_code == 0 and result.output.strip(), name
    result = runner.invoke(app, ["show-config", "nope"])
    assert result.exit_code == 1 and all(name in str(result.exception) for name in STAGES)
