"""What every run and every loaded model shares: checkpoint file names and reading their weight files
(a damaged one is one line naming it), the device, the processes of a distributed run, seeding and RNG
state, and moving batches to the device.

Training (:mod:`pretrain.loop`) and inference (loading a checkpoint) both import this module; it
imports neither.
"""

from __future__ import annotations

import importlib
import os
import pickle
import random
import re
from pathlib import Path

import numpy as np
import torch

from pose.errors import MESSAGE, InputError, excerpt, quoted

# the files of a checkpoint folder that every stage writes (a stage adds its own, e.g. SignLLaVA's meta.json)
WEIGHTS, CONFIG, TRAINING = "model.safetensors", "config.yaml", "training.pt"


def flush_denormals() -> None:
    """Treat float32 values below ~1.2e-38 as 0 on the CPU (the FTZ/DAZ flags). A few training steps in,
    the backward pass of a connector (``hybrid``'s gated blocks most, ``mlp`` with temporal blocks too)
    carries such values, and x86 CPUs compute on them many times slower: steps grew several-fold within
    ten steps without this (benchmarks/denormals.py). The flag is per thread and worker threads copy it
    when they start, so it is set before the model is built."""
    for dtype in (np.float16, np.float32, np.float64, np.longdouble):
        np.finfo(dtype)  # numpy caches these; computed with the flags on, they warn that subnormals are 0
    torch.set_flush_denormal(True)


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when there is one, else the CPU; otherwise the named device, which must exist here.
    Every run and loaded model comes through here, so this is where denormals are flushed."""
    flush_denormals()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise InputError(None, f"device {quoted(name)} is not a device torch knows (auto, cpu, cuda, cuda:N)") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InputError(None, f"device {quoted(name)}: this machine has no CUDA device (use auto or cpu)")
        if device.index is not None and device.index >= count:
            raise InputError(None, f"device {quoted(name)}: this machine has {count} CUDA device(s)")
    return device


def distributed_setup(device_name: str) -> tuple[int, int, torch.device]:
    """``(rank, world size, device)``; joins the process group when launched with WORLD_SIZE > 1
    (torchrun, or submitit's TorchDistributedEnvironment().export() on SLURM): NCCL on GPUs,
    gloo on CPUs. Each rank takes the GPU of its LOCAL_RANK."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = pick_device(device_name)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return (dist.get_rank() if world > 1 else 0), world, device


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


def rng_state() -> dict:
    """Python, numpy and torch RNG states (saved with a checkpoint so that a resume is exact), as tensors and
    plain data only, so that :func:`load_training_state` reads them without building any object."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = (name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached)
    return {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    keys = keys.numpy() if isinstance(keys, torch.Tensor) else keys  # an array in older run folders
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])


def _numpy_array_globals() -> list:
    """numpy's array reconstruction, which run folders written before :func:`rng_state` kept plain data pickled
    their numpy RNG state with: it builds an array from bytes and runs no code of the file's."""
    found = [np.ndarray, np.dtype, type(np.dtype(np.uint32))]  # the state's keys are uint32
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        try:
            found.append(importlib.import_module(module)._reconstruct)
        except (ImportError, AttributeError):
            pass
    return found


def load_training_state(path: Path) -> dict:
    """A run's training state (``last/training.pt``: optimizer, schedule, position, RNG, metrics) read with
    ``torch.load(weights_only=True)``: tensors and plain data, nothing else built and no code run, so a run
    folder from someone else cannot run code when training resumes from it. Anything else is refused with
    one line naming the file."""
    try:
        with torch.serialization.safe_globals(_numpy_array_globals()):
            state = torch.load(path, weights_only=True)
    except pickle.UnpicklingError as err:
        named = re.search(r"GLOBAL ([\w.]+)|but got <class '([\w.]+)'>", str(err))
        what = f"it asks for {named.group(1) or named.group(2)}" if named else "it holds objects torch will not load"
        raise InputError(path, f"refused: {what}; a training state holds only tensors and plain data") from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise InputError(path, f"not a readable training state ({excerpt(err, MESSAGE)})") from None
    if not isinstance(state, dict) or not {"optimizer", "scheduler", "step", "rng"} <= state.keys():
        raise InputError(path, "not a training state (no optimizer, scheduler, step and rng in it)")
    return state


# what safetensors' header errors mean for a weight file someone copied, in the words a user acts on
_DAMAGE = {
    "header too small": "empty, or cut off inside its header",
    "invalid header length": "cut off inside its header",
    "file not fully covered": "cut short: smaller than its header says",
    "header too large": "not a safetensors file (another file under this name?)",
    "invalid JSON": "not a safetensors file (another file under this name?)",
    "invalid UTF-8": "not a safetensors file (another file under this name?)",
}
RECOPY = "copy it again from where it came"


def _damaged(path: Path, err: Exception, fix: str) -> InputError:
    what = next((words for key, words in _DAMAGE.items() if key in str(err)), "not a readable safetensors file")
    return InputError(path, f"damaged weight file: {what} ({excerpt(err, MESSAGE)}); {fix}")


def check_weights(path: str | os.PathLike, fix: str = RECOPY) -> Path:
    """Refuse a damaged safetensors file (truncated by a copy, empty, another file renamed to it) with
    one line naming it and ``fix``, the way to a good one. Reads the header and the file's size only:
    for files another library loads (an LLM folder's weights through transformers)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "weight file not found")
    try:
        with safe_open(str(path), framework="pt"):
            pass
    except (SafetensorError, OSError) as err:
        raise _damaged(path, err, fix) from None
    return path


def check_weight_folder(folder: str | os.PathLike, fix: str = RECOPY) -> None:
    """:func:`check_weights` for every ``*.safetensors`` file of a model folder (an LLM's shards)."""
    for path in sorted(Path(folder).glob("*.safetensors")):
        check_weights(path, fix)


def load_weights(path: str | os.PathLike, device: str | torch.device = "cpu", fix: str = RECOPY) -> dict:
    """Every tensor of a safetensors file, on ``device``: what every checkpoint loader reads its weights
    with, so that a damaged file is one line naming it (:func:`check_weights`), never a traceback."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = check_weights(path, fix)
    try:
        return load_file(str(path), device=str(device))
    except SafetensorError as err:  # a header that reads but data that does not
        raise _damaged(path, err, fix) from None


def all_mean(values: list[float], world: int) -> list[float]:
    """The mean of each value over the ranks (the values themselves on one process)."""
    if world == 1:
        return values
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return (t / world).tolist()


def sum_over_ranks(t: torch.Tensor) -> torch.Tensor:
    """``t`` summed over the ranks of a distributed run, in place (``t`` itself on one process): for
    statistics a module keeps of its batches (running means, DINO's center), so that every rank keeps
    the same ones, made from every rank's data."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t)
    return t


def move_to(batch, device: torch.device):
    """The batch with every tensor in it (nested in dicts, lists and tuples) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(move_to(v, device) for v in batch)
    return batch
