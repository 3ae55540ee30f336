"""What every run shares: the device, batches moved to it, seeding and exact RNG state, one-process reductions."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from pretrain.runtime import (
    all_mean,
    distributed_setup,
    move_to,
    pick_device,
    rng_state,
    seed_everything,
    set_rng_state,
    sum_over_ranks,
)


def draws() -> tuple:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_pick_device():
    assert pick_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == torch.device("cpu") and pick_device("meta") == torch.device("meta")


def test_pick_device_flushes_denormals_in_every_cpu_thread():
    # a fresh process: the flag is process state, and worker threads copy it only when they start
    code = """
import numpy as np
import torch
from pretrain.runtime import pick_device
torch.set_num_threads(2)
tiny = torch.from_numpy(np.full(1 << 20, 1e-39, np.float32))  # denormals, made without torch's threads
pick_device("cpu")  # as every run does before its first computation: the worker threads start after it
assert bool((tiny * 1.0).eq(0).all()), "every thread's share of the product is flushed"
import warnings
warnings.simplefilter("error")
np.finfo(np.float32)  # numpy's limits (sacrebleu, transformers read them) say nothing about the flags
"""
    probe = "import torch, sys; sys.exit(0 if torch.set_flush_denormal(True) else 3)"
    if subprocess.run([sys.executable, "-c", probe]).returncode == 3:
        pytest.skip("this CPU has no flush-to-zero flags that torch can set")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    without = code.replace('pick_device("cpu")', "")
    kept = subprocess.run([sys.executable, "-c", without], capture_output=True, text=True)
    assert kept.returncode != 0  # without it the product keeps denormals: the check above can fail
    assert "every thread's share" in kept.stderr  # and it fails there, not on something else


def test_move_to_reaches_every_tensor_of_a_nested_batch_and_keeps_the_rest():
    batch = {"x": torch.ones(2), "parts": [torch.zeros(1), (torch.arange(3), "label")], "names": ["a", "b"], "n": 2}
    moved = move_to(batch, torch.device("meta"))  # a device every machine has: no data is copied
    assert moved["x"].device.type == "meta" and moved["x"].shape == (2,)
    assert isinstance(moved["parts"], list) and isinstance(moved["parts"][1], tuple)
    assert moved["parts"][0].device.type == "meta" and moved["parts"][1][0].device.type == "meta"
    assert moved["parts"][1][1] == "label" and moved["names"] == ["a", "b"] and moved["n"] == 2
    assert batch["x"].device.type == "cpu"  # the input batch is left as it was


def test_a_saved_rng_state_gives_the_same_draws_again():
    seed_everything(3)
    state = rng_state()
    first = draws()
    assert draws() != first  # the generators moved on
    set_rng_state(state)
    assert draws() == first  # python, numpy and torch all restored
    seed_everything(3)
    assert draws() == first  # and the same seed gives the same draws


def test_reductions_on_one_process_are_the_identity(monkeypatch):
    t = torch.tensor([1.0, 2.0])
    assert sum_over_ranks(t) is t and t.tolist() == [1.0, 2.0]
    assert all_mean([0.5, 3.0], 1) == [0.5, 3.0]
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed_setup("cpu") == (0, 1, torch.device("cpu"))


def damage(path, how: str) -> None:
    """Spoil a safetensors file as copies spoil them: ``truncated``, ``empty``, or ``renamed`` (another file
    under its name)."""
    from pathlib import Path

    path = Path(path)
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "header cut":
        path.write_bytes(path.read_bytes()[:20])
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.write_text("optim:\n  lr: 0.001\n")


@pytest.mark.parametrize(
    "how, says",
    [
        ("truncated", "cut short: smaller than its header says"),
        ("empty", "empty, or cut off inside its header"),
        ("header cut", "cut off inside its header"),
        ("renamed", "not a safetensors file (another file under this name?)"),
    ],
)
def test_a_damaged_weight_file_is_one_line_naming_it(tmp_path, how, says):
    from safetensors.torch import save_file

    from pose.errors import InputError
    from pretrain.runtime import check_weight_folder, check_weights, load_weights

    path = tmp_path / "model.safetensors"
    save_file({"w": torch.arange(1000.0)}, path)
    assert torch.equal(load_weights(path)["w"], torch.arange(1000.0))
    damage(path, how)
    for load in (check_weights, load_weights, check_weight_folder):
        with pytest.raises(InputError) as err:
            load(path if load is not check_weight_folder else tmp_path)
        text = str(err.value)
        assert text.startswith(f"{path}: damaged weight file: {says}") and "\n" not in text
        assert text.endswith("copy it again from where it came")
    with pytest.raises(InputError, match="reinstall"):
        load_weights(path, fix="reinstall")
    with pytest.raises(InputError, match="gone.safetensors: weight file not found"):
        check_weights(tmp_path / "gone.safetensors")
