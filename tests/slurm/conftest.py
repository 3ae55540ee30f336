"""SLURM fixtures: a reachable controller (else the `slurm` tests skip) and small training runs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pose.synth import SynthConfig, generate
from tests.model.conftest import llm_dir, tokenizer_dir  # noqa: F401  (fixtures)


def slurm_reachable() -> str:
    """'' when a SLURM controller answers with an idle or busy node, else why not."""
    if shutil.which("sinfo") is None:
        return "no SLURM client here (sinfo not found); CI starts one with slurm/cluster.sh"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo timed out: no SLURM controller reachable"
    if out.returncode != 0:
        why = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit code {out.returncode}"
        return f"no SLURM controller reachable ({why})"
    if not any(s.startswith(("idle", "mixed", "alloc")) for s in out.stdout.split()):
        return f"SLURM has no usable node (states: {out.stdout.split()})"
    return ""


@pytest.fixture(scope="session")
def slurm():
    why = slurm_reachable()
    if why:
        pytest.skip(why)


@pytest.fixture(scope="session")
def synth_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("slurm-synth") / "s"
    generate(out, SynthConfig(size="tiny", seed=0, documents=False, progress=False))
    return out


@pytest.fixture
def train_overrides(synth_data, llm_dir):  # noqa: F811
    """`--set` overrides of a tiny-LLM pose-stream training run on synthsign tiny (CPU, gloo)."""

    def make(out, steps: int, **extra) -> list[str]:
        settings = {
            "model.llm": llm_dir,
            "model.streams.pose.dim": 208,
            "model.streams.pose.stride": 4,
            "data.metadata": f"[{synth_data}/how2sign_realigned_train.csv]",
            "data.streams.pose.poses": str(synth_data / "poses"),
            "data.tasks.translate": 1.0,
            "data.tasks.sign_present": 0.0,
            "data.tasks.signs_present": 0.0,
            "data.tasks.reversed": 0.0,
            "optim.max_steps": steps,
            "optim.batch_size": 2,
            "optim.lr": 0.03,
            "optim.warmup_ratio": 0.0,
            "output_dir": str(out),
            "device": "cpu",
            "log_every": 1,
            "save_every": 100000,
        }
        return [f"{k}={v}" for k, v in (settings | extra).items()]

    return make
