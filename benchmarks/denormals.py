"""Float32 denormals on the CPU: training steps of a connector with the flush-to-zero flags that
``pretrain.runtime.pick_device`` sets, against the same steps without them.

A few training steps in, a connector's backward pass (``hybrid``'s gated blocks most, ``mlp/4`` with
its temporal blocks too) carries values below float32's smallest normal number (~1.2e-38), and x86
CPUs compute on such values many times slower. Each side runs in its own process (the flags are
process state, copied by the worker threads when they start), from the same seed on the same
inputs, so both train the same model: the losses must agree step for step. Prints every step's CPU
seconds and the ratio of the last steps' mean, without the flags against with them.

    python benchmarks/denormals.py --variant hybrid --seconds 30 --steps 12 --threads 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import torch


def child(args) -> None:
    """One side: build, train ``--steps`` steps, print the per-step CPU seconds and losses as JSON."""
    if args.flush == "on":
        from pretrain.runtime import flush_denormals

        flush_denormals()  # before any computation, as every run does, so the worker threads have it too
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from connector_variants import model_config
    from connectors import sample

    from signllava.model.llm import load_llm
    from signllava.model.model import SignLLaVA

    llm, tokenizer = load_llm(args.llm, torch.device("cpu"))
    config = model_config(args.variant, {"pose": 208}, args.llm, {"out_norm": "rms", "temporal": 2}, max_length=8192)
    model = SignLLaVA(config, llm, tokenizer)
    flushed = bool((torch.full((1,), 1e-39) * 1.0).eq(0).all())
    if flushed != (args.flush == "on"):  # e.g. a loader that came to set the flags itself
        raise SystemExit(f"the {args.flush} side found the flags {'on' if flushed else 'off'}")
    model.train()
    model.llm.eval()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    tasks, streams, masks = sample(args.seconds, {"pose": 208}, 25.0, args.seed)
    seconds, losses = [], []
    for _ in range(args.steps):
        start = time.process_time()
        loss = model.losses(tasks, streams, masks).total
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds.append(time.process_time() - start)
        losses.append(float(loss))
    print(json.dumps({"seconds": seconds, "losses": losses}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="hybrid", help="a variant of benchmarks/connectors.py")
    parser.add_argument("--seconds", type=float, default=30.0, help="video length of the training sample")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--last", type=int, default=4, help="steps at the end whose mean is compared")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--llm", default="smollm2-135m")
    parser.add_argument("--flush", choices=["on", "off"], default=None, help=argparse.SUPPRESS)  # one side
    args = parser.parse_args()
    if args.flush:
        child(args)
        return
    sides = {}
    for flush in ("on", "off"):
        out = subprocess.run([sys.executable, *sys.argv, "--flush", flush], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"the {flush} side failed:\n{out.stderr[-2000:]}")
        sides[flush] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{args.variant}, {args.seconds:g} s of video, {args.threads} thread(s), CPU seconds per training step")
    print(f"{'step':>4} {'flushed':>8} {'kept':>8} {'loss flushed':>13} {'loss kept':>10}")
    on, off = sides["on"], sides["off"]
    for i in range(args.steps):
        print(f"{i + 1:>4} {on['seconds'][i]:>8.2f} {off['seconds'][i]:>8.2f} {on['losses'][i]:>13.4f}", end="")
        print(f" {off['losses'][i]:>10.4f}")
    mean = {k: sum(s["seconds"][-args.last :]) / args.last for k, s in sides.items()}
    drift = max(abs(a - b) for a, b in zip(on["losses"], off["losses"], strict=True))
    print(f"last {args.last} steps: kept / flushed = {mean['off'] / mean['on']:.2f}x", end="")
    print(f" ({mean['off']:.2f} s against {mean['on']:.2f} s); largest loss difference {drift:.2e}")


if __name__ == "__main__":
    main()
