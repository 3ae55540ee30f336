"""Two-process DDP training on the CPU (gloo): both ranks take part and stay in sync."""

from __future__ import annotations

import json

import torch
import torch.multiprocessing as mp

from tests.conftest import become_rank, free_port
from tests.signllava.conftest import config


def _rank(rank: int, world: int, port: int, cfg, results: str) -> None:
    become_rank(rank, world, port)
    import torch.distributed as dist

    from signllava.train import train

    seen = []
    import pretrain.loop as loop
    import signllava.train as train_module

    original = loop._batches

    def spy(*args, **kwargs):
        for batch in original(*args, **kwargs):
            seen.extend(batch["sentences"])
            yield batch

    built = []
    original_build = train_module.build_model
    loop._batches = spy
    train_module.build_model = lambda *a: built.append(original_build(*a)) or built[-1]
    summary = train(cfg, progress=False)
    state = {k: v.flatten()[:16].tolist() for k, v in built[0].trainable_state().items()}
    with open(f"{results}.{rank}.json", "w") as f:
        json.dump({"summary": summary, "seen": seen, "state": state}, f)
    dist.destroy_process_group()


def test_two_ranks_share_the_data_and_the_weights(llm_dir, dataset, tmp_path):
    cfg = config(llm_dir, dataset, tmp_path / "run", steps=2)
    cfg.optim.batch_size = 2
    results = str(tmp_path / "result")
    mp.spawn(_rank, args=(2, free_port(), cfg, results), nprocs=2, join=True)
    r0, r1 = (json.load(open(f"{results}.{r}.json")) for r in (0, 1))
    assert r0["summary"]["world_size"] == 2 and r0["summary"]["steps"] == r1["summary"]["steps"] == 2
    assert r0["seen"] and r1["seen"] and not set(r0["seen"]) & set(r1["seen"])  # disjoint shares
    metrics = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(metrics) == 2  # only rank 0 logs
    assert torch.isfinite(torch.tensor(json.loads(metrics[-1])["loss"]))
    assert r0["state"] == r1["state"]  # gradients were averaged: both ranks hold the same weights
