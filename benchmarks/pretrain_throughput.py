"""Pretraining throughput (samples/s) and peak memory of the three objectives at their real sizes.

For each objective (Sign2Vec base, DINO ViT-S/14, MAE ViT-B/16 by default) the whole training
loop, ``pretrain.trainer.pretrain`` (data loading, augmentation, forward, backward, AdamW,
schedule, logging), runs ``--warmup + --steps`` steps; its samples/s over the timed steps is
compared with the peer measured in the same process: the bare ``objective.loss`` forward +
backward + AdamW step on one batch collated in advance (no data pipeline). The ratio shows what
the loop costs on top of the model's arithmetic. Peak memory: CUDA's peak allocation, or on the
CPU the process's peak resident size (each objective runs in its own process for that).

    python benchmarks/pretrain_throughput.py [--device cpu|cuda] [--batch 2] [--steps 3]
        [--objectives sign2vec,dino,mae] [--sign2vec-size base] [--dino-size small] [--mae-size base]

On CUDA the steps run in bf16 autocast, as ``signllava pretrain`` runs them. Models are randomly
initialized (speed does not depend on the weights); the data is rendered synthsign (or --poses/--videos).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
from feature_extraction import bench_data  # benchmarks/ is on sys.path when a script there runs

from pretrain.build import PretrainConfig, build_objective
from pretrain.data import PretrainData
from pretrain.optim import OptimConfig
from pretrain.trainer import pretrain


def bare_steps(cfg: PretrainConfig, steps: int, device: torch.device) -> float:
    """samples/s of the peer: forward + backward + AdamW on one pre-collated batch."""
    from pretrain.runtime import move_to

    torch.manual_seed(0)
    objective = build_objective(cfg).to(device).train()
    dataset = objective.dataset(cfg.data, objective.config)
    batch = move_to(objective.collate([dataset[i % len(dataset)] for i in range(cfg.optim.batch_size)]), device)
    optimizer = torch.optim.AdamW([p for p in objective.parameters() if p.requires_grad], lr=cfg.optim.lr)
    bf16 = device.type == "cuda"

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss, _ = objective.loss(batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * cfg.optim.batch_size / (time.perf_counter() - start)


def run_one(name: str, size: str, args, data: PretrainData) -> dict:
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as out:
        cfg = PretrainConfig(
            objective=name,
            model={"size": size},
            data=data,
            optim=OptimConfig(max_steps=args.warmup + args.steps, batch_size=args.batch, warmup_ratio=0.0),
            output_dir=out,
            device=str(device),
            log_every=1,
            save_every=10**9,
        )
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        pretrain(cfg, progress=False)
        metrics = [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines()]
        timed = [m["samples_per_s"] for m in metrics[args.warmup :]]
        loop = len(timed) / sum(1 / v for v in timed)  # harmonic mean: samples over total time
        peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else None
        bare = bare_steps(cfg, args.steps, device)
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    params = sum(p.numel() for p in build_objective(cfg).parameters())
    return {"objective": name, "size": size, "params": params, "loop": loop, "bare": bare, "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=0, help="samples per step (0: 64 on CUDA, 2 on the CPU)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed first steps")
    parser.add_argument("--steps", type=int, default=3, help="timed steps")
    parser.add_argument("--objectives", default="sign2vec,dino,mae")
    parser.add_argument("--sign2vec-size", default="base")
    parser.add_argument("--dino-size", default="small", help="ViT-S/14")
    parser.add_argument("--mae-size", default="base", help="ViT-B/16")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--poses", help="a folder of .pose files (default: render synthsign)")
    parser.add_argument("--videos", help="their videos (same stems)")
    args = parser.parse_args()
    args.batch = args.batch or (64 if args.device.startswith("cuda") else 2)
    sizes = {"sign2vec": args.sign2vec_size, "dino": args.dino_size, "mae": args.mae_size}
    with tempfile.TemporaryDirectory() as tmp:
        data = bench_data(tmp, args.poses, args.videos, split="train")
        print(f"torch {torch.__version__}, device {args.device}, batch {args.batch}, {args.steps} timed steps")
        print(f"{'objective':22s} {'params':>8s} {'loop':>10s} {'bare step':>10s} {'ratio':>6s} {'peak memory':>12s}")
        ctx = mp.get_context("spawn")
        for name in args.objectives.split(","):
            # a process of its own per objective (its peak memory); a crash in it, even a fatal
            # signal, is reported here and the next objective still runs
            with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                try:
                    r = pool.submit(run_one, name, sizes[name], args, data).result()
                except Exception as err:
                    print(f"{name + ' (' + sizes[name] + ')':22s} failed: {type(err).__name__}: {err}", flush=True)
                    continue
            print(
                f"{name + ' (' + r['size'] + ')':22s} {r['params'] / 1e6:7.1f}M {r['loop']:8.2f}/s "
                f"{r['bare']:8.2f}/s {r['loop'] / r['bare']:6.2f} {r['peak'] / 2**30:9.2f} GiB",
                flush=True,
            )


if __name__ == "__main__":
    main()
