"""Two-process DDP pretraining on the CPU (gloo), through the loop every stage shares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from tests.conftest import become_rank, free_port
from tests.pretrain.test_sign2vec import run_config


@pytest.fixture(scope="module")
def synth(tiny_poses) -> Path:
    """synthsign tiny's poses (``tiny_poses`` in conftest.py), by the name these tests take."""
    return tiny_poses


def _rank(rank: int, world: int, port: int, cfg, results: str) -> None:
    become_rank(rank, world, port)
    import torch.distributed as dist

    import pretrain.loop as loop
    import pretrain.trainer as trainer

    seen, built = [], []
    original_batches, original_build = loop._batches, trainer.build_objective

    def spy(*args, **kwargs):
        loader = original_batches(*args, **kwargs)
        seen.extend(loader.dataset.indices)  # the clips this rank trains on
        return loader

    loop._batches = spy
    trainer.build_objective = lambda cfg: built.append(original_build(cfg)) or built[-1]
    summary = trainer.pretrain(cfg, progress=False)
    state = {k: v.flatten()[:16].tolist() for k, v in built[0].state_dict().items() if v.is_floating_point()}
    with open(f"{results}.{rank}.json", "w") as f:
        json.dump({"summary": summary, "seen": seen, "state": state}, f)
    dist.destroy_process_group()


def test_two_ranks_pretrain_sign2vec_on_disjoint_shares_with_the_same_weights(synth, tmp_path):
    cfg = run_config(synth, tmp_path / "run", max_steps=3, batch_size=2)
    results = str(tmp_path / "result")
    mp.spawn(_rank, args=(2, free_port(), cfg, results), nprocs=2, join=True)
    r0, r1 = (json.load(open(f"{results}.{r}.json")) for r in (0, 1))
    assert r0["summary"]["world_size"] == 2 and r0["summary"]["steps"] == r1["summary"]["steps"] == 3
    assert r0["seen"] and r1["seen"] and not set(r0["seen"]) & set(r1["seen"])  # disjoint shares of the clips
    metrics = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(metrics) == 3  # only rank 0 logs (log_every=1)
    assert torch.isfinite(torch.tensor(json.loads(metrics[-1])["loss"]))
    assert (tmp_path / "run" / "last" / "training.pt").is_file()
    assert r0["state"] == r1["state"]  # gradients were averaged (and buffers broadcast): the same weights
