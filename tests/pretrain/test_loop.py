"""The loop every stage trains with, on a toy regression: seeded epoch order, accumulation, resume, stop, logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from pose.errors import InputError
from pretrain.loop import Run, StepOutput, Trainee, fit
from pretrain.optim import OptimConfig
from pretrain.runtime import TRAINING, WEIGHTS, seed_everything
from tests.conftest import Payload
from tests.pretrain.conftest import Toy


class Points(torch.utils.data.Dataset):
    def __init__(self, n: int = 24):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 4, generator=g)
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        return {"x": self.x[i], "y": self.y[i], "i": i}


def collate(items: list[dict]) -> dict:
    return {
        "x": torch.stack([it["x"] for it in items]),
        "y": torch.stack([it["y"] for it in items]),
        "i": [it["i"] for it in items],
    }


def run_toy(out: Path, seen: list | None = None, stop_at: int | None = None, **optim) -> dict:
    seed_everything(0)
    model = Toy()

    def step(batch) -> StepOutput:
        if seen is not None:
            seen.extend(batch["i"])
        pred = model.layer(batch["x"]).squeeze(-1) + model.offset.sum()
        loss = (pred - batch["y"]).pow(2).mean()
        return StepOutput(loss, {"abs": float((pred - batch["y"]).detach().abs().mean())}, tokens=len(batch["i"]))

    def save(folder: Path, at: int) -> None:
        save_file({k: v.detach().clone() for k, v in model.state_dict().items()}, folder / WEIGHTS)

    def load(folder: Path) -> None:
        model.load_state_dict(load_file(folder / WEIGHTS), strict=True)

    settings = {"lr": 0.3, "warmup_ratio": 0.0, "max_steps": 10, "batch_size": 4, **optim}
    run = Run(out, "toy: true\n", order_seed=7, log_every=1, save_every=3, plot_parts={"abs": "mean |error|"})
    stop = None if stop_at is None else (lambda s: s >= stop_at)
    trainee, cpu = Trainee(model, step, save, load), torch.device("cpu")
    summary = fit(trainee, Points(), collate, OptimConfig(**settings), run, cpu, progress=False, should_stop=stop)
    return summary | {"weights": model.layer.weight.detach().clone()}


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_loss_falls_and_the_run_folder_is_complete(tmp_path):
    summary = run_toy(tmp_path / "run", max_steps=30)
    logged = records(tmp_path / "run")
    assert summary["steps"] == 30 and len(logged) == 30 and logged[-1]["loss"] < logged[0]["loss"] / 5
    assert {"abs", "lr", "samples_per_s", "tokens_per_s", "epoch"} <= set(logged[-1])
    assert logged[-1]["epoch"] == 4  # 6 batches an epoch
    for name in ("config.yaml", "loss.png", "last/model.safetensors", "last/training.pt", "last/config.yaml"):
        assert (tmp_path / "run" / name).is_file(), name


def test_every_epoch_visits_each_sample_once_in_a_seeded_order(tmp_path):
    a, b = [], []
    run_toy(tmp_path / "a", seen=a, max_steps=12)
    run_toy(tmp_path / "b", seen=b, max_steps=12)
    assert a == b  # the same order from the same seed
    assert sorted(a[:24]) == list(range(24)) == sorted(a[24:]) and a[:24] != a[24:]  # reshuffled each epoch


def test_a_stopped_run_resumes_on_the_same_curve(tmp_path):
    whole = run_toy(tmp_path / "whole")
    first = run_toy(tmp_path / "split", stop_at=4)
    assert first["steps"] == 4
    resumed = run_toy(tmp_path / "split")
    assert resumed["steps"] == 10
    assert [r["loss"] for r in records(tmp_path / "split")] == [r["loss"] for r in records(tmp_path / "whole")]
    assert torch.equal(resumed["weights"], whole["weights"])
    again = run_toy(tmp_path / "split")  # a rerun after the last step does nothing
    assert again["steps"] == 10 and len(records(tmp_path / "split")) == 10


def test_accumulating_two_half_batches_equals_one_whole_batch(tmp_path):
    whole = run_toy(tmp_path / "whole", batch_size=4, max_steps=3)
    halves = run_toy(tmp_path / "halves", batch_size=2, grad_accum=2, max_steps=3)
    assert torch.allclose(whole["weights"], halves["weights"], atol=1e-6)


def test_the_training_state_is_tensors_and_plain_data(tmp_path):
    run_toy(tmp_path / "run", stop_at=4)
    state = torch.load(tmp_path / "run" / "last" / TRAINING, weights_only=True)  # no allow-list needed
    assert state["step"] == 4 and isinstance(state["rng"]["numpy"][1], torch.Tensor)


def test_a_run_folder_whose_training_state_asks_to_run_code_is_refused(tmp_path):
    run_toy(tmp_path / "run", stop_at=4)
    state_file = tmp_path / "run" / "last" / TRAINING
    state = torch.load(state_file, weights_only=True)
    marker = tmp_path / "ran"
    torch.save(state | {"metrics": [Payload(marker)]}, state_file)  # a run folder handed over by someone
    weights = (tmp_path / "run" / "last" / WEIGHTS).read_bytes()
    with pytest.raises(InputError, match=r"training\.pt: refused: it asks for (posix|os|nt)\.system;") as err:
        run_toy(tmp_path / "run")
    assert "\n" not in str(err.value) and not marker.exists()
    assert (tmp_path / "run" / "last" / WEIGHTS).read_bytes() == weights  # nothing loaded, nothing overwritten
    torch.load(state_file, weights_only=False)  # the check is real: an ordinary load runs it
    assert marker.exists()


def test_damaged_training_state_is_one_line(tmp_path):
    run_toy(tmp_path / "run", stop_at=4)
    state_file = tmp_path / "run" / "last" / TRAINING
    state_file.write_bytes(state_file.read_bytes()[:100])
    with pytest.raises(InputError, match=r"training\.pt: not a readable training state"):
        run_toy(tmp_path / "run")
    torch.save({"step": 4}, state_file)
    with pytest.raises(InputError, match=r"training\.pt: not a training state"):
        run_toy(tmp_path / "run")


def test_an_older_run_folder_with_numpys_rng_state_as_an_array_resumes_exactly(tmp_path):
    import numpy as np

    whole = run_toy(tmp_path / "whole")
    run_toy(tmp_path / "split", stop_at=4)
    state_file = tmp_path / "split" / "last" / TRAINING
    state = torch.load(state_file, weights_only=True)
    name, keys, *rest = state["rng"]["numpy"]
    state["rng"]["numpy"] = (name, keys.numpy().astype(np.uint32), *rest)  # as written before: pickled numpy
    torch.save(state, state_file)
    resumed = run_toy(tmp_path / "split")
    assert torch.equal(resumed["weights"], whole["weights"])
    assert [r["loss"] for r in records(tmp_path / "split")] == [r["loss"] for r in records(tmp_path / "whole")]
