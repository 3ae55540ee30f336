"""Connectors side by side (signllava/connectors): cost against input length, quality at an equal budget.

``cost``: for 5 s to 120 s of video (one stream, or the four of DESIGN.md, random features of the real
sizes at 25 fps), each variant's LLM sequence length, training step time and memory per sample (batch
1, stage 1: forward + backward into the connector), and generation latency (prefill + 20 new tokens,
greedy), on the real SmolLM2-135M (or a Llama-3-8B-shaped model with random weights on a GPU). Every
variant runs interleaved in one process on the same inputs, each figure the best of ``--repeats``;
times are printed as ratios against ``mlp`` without pooling, with the input length from which each
variant is cheaper; ``--plot`` draws the four curves on log-log axes. Times on a GPU are wall
time; on a CPU they are the process's CPU seconds, which other processes' load on a shared machine
does not inflate as it does wall time (run it with ``--threads 1`` there). Memory on a CPU is the bytes
autograd saves for the backward pass (activations, the LLM's weights excluded: PyTorch keeps no peak
counter on a CPU); on a GPU the peak allocated during the step.

``quality``: each variant trained with one recipe (data, steps, seed, context settings) on synthsign
sentences (``signllava.train``), then scored on the held-out split (``signllava.evaluate``: BLEU-4,
exact matches, ambiguous words with the model's own outputs as context) and on long passages (the
consecutive sentences of a held-out document joined into 15 / 30 / 60 / 120 s, translated as one
segment). Reruns resume each variant's training.

    python benchmarks/connectors.py cost --plot benchmarks/connectors_cost.png
    python benchmarks/connectors.py cost --shape llama3-8b --device cuda --streams 4
    python benchmarks/connectors.py quality --data out/synthsign-medium --steps 400 --work out/connectors
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from connector_variants import VARIANTS, model_config  # benchmarks/ is on sys.path when a script there runs

from signllava.data.tasks import Task
from signllava.model.model import SignLLaVA

STREAM_DIMS = {"pose": 208, "sign2vec": 768, "dino": 1152, "mae": 768}
SHAPES = {"llama3-8b": (4096, 14336, 32, 32, 8, 128256)}  # hidden, intermediate, layers, heads, kv heads, vocab
SENTENCE = "Your sister went to the store last week."  # ~4 s of synthsign signing


def load_base(args, device: torch.device):
    """The frozen LLM every variant shares, and its tokenizer."""
    from signllava.model.llm import load_llm

    if args.shape is None:
        return load_llm(args.llm, device)
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from signllava.model.llm import DEFAULT_LLM, resolve

    hidden, inter, layers, heads, kv, vocab = SHAPES[args.shape]
    shape = dict(hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers, num_attention_heads=heads)
    shape |= dict(num_key_value_heads=kv, vocab_size=vocab, max_position_embeddings=32768)
    with torch.device(device):
        llm = LlamaForCausalLM(LlamaConfig(**shape, attn_implementation="sdpa")).to(torch.bfloat16)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or resolve(DEFAULT_LLM))
    tokenizer.pad_token = tokenizer.eos_token
    return llm.requires_grad_(False).eval(), tokenizer


# --- cost -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def saved_for_backward(exclude: set[int], out: list[int]):
    """Adds to ``out`` the bytes of the tensors autograd saves inside (each storage once; ``exclude``:
    storages that exist anyway, the weights)."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in exclude:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        yield
    out.append(sum(seen.values()))


def sample(seconds: float, streams: dict[str, int], fps: float, seed: int):
    """One translation task of ``seconds`` of video: random features, a reference of one sentence per 4 s."""
    frames = max(1, round(seconds * fps))
    rng = np.random.default_rng(seed)
    features = {n: torch.from_numpy(rng.standard_normal((1, frames, d)).astype(np.float32)) for n, d in streams.items()}
    masks = {n: torch.ones(1, frames, dtype=torch.bool) for n in streams}
    answer = " ".join([SENTENCE] * max(1, round(seconds / 4)))
    return [Task("passage", "translate", answer)], features, masks


def clock(device: torch.device):
    """Wall time on a GPU (synchronized), CPU seconds of this process on a CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        return time.perf_counter()
    return time.process_time()


def measure(model: SignLLaVA, inputs, device: torch.device, new_tokens: int) -> dict:
    tasks, streams, masks = inputs
    out = {"tokens": int(model.encode(tasks, streams, masks)["attention_mask"].sum())}
    weights = {p.untyped_storage().data_ptr() for p in [*model.parameters(), *model.buffers()]}
    model.train()
    model.llm.eval()
    memory: list[int] = []
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    start = clock(device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        with saved_for_backward(weights, memory):
            loss = model.losses(tasks, streams, masks).total
    loss.backward()
    out["step_s"] = clock(device) - start
    out["memory_mb"] = (torch.cuda.max_memory_allocated() - base if device.type == "cuda" else memory[0]) / 2**20
    model.zero_grad(set_to_none=True)
    model.eval()
    start = clock(device)
    model.generate(tasks, streams, masks, max_new_tokens=new_tokens, min_new_tokens=new_tokens)
    out["generate_s"] = clock(device) - start
    return out


def crossing(seconds: list[float], ratio: list[float]) -> str:
    """From which input length a variant is cheaper than mlp (ratio < 1), interpolated on log axes."""
    if all(r < 1 for r in ratio):
        return f"cheaper at every length (from {seconds[0]:g} s)"
    points = list(zip(seconds, ratio, strict=True))
    for (s0, r0), (s1, r1) in itertools.pairwise(points):
        if r0 >= 1 > r1:
            t = math.log(r0) / (math.log(r0) - math.log(r1))
            return f"cheaper from ~{math.exp(math.log(s0) + t * (math.log(s1) - math.log(s0))):.0f} s"
    return "not cheaper in this range" if all(r >= 1 for r in ratio) else "cheaper at some lengths only"


def plot(results: dict, path: Path, title: str, timed: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("tokens", "LLM sequence length (tokens)"),
        ("step_s", f"training step per sample ({timed})"),
        ("memory_mb", "memory per sample (MB)"),
        ("generate_s", f"generation: prefill + 20 tokens ({timed})"),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for variant, rows in results.items():
            xs = [r["seconds"] for r in rows if key in r]
            ax.plot(xs, [r[key] for r in rows if key in r], marker="o", label=variant)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("video (s)")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cost(args) -> None:
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    streams = dict(list(STREAM_DIMS.items())[: args.streams])
    llm, tokenizer = load_base(args, device)
    limit = llm.config.max_position_embeddings
    models = {v: SignLLaVA(model_config(v, streams, args.llm, max_length=10**9), llm, tokenizer) for v in args.variants}
    results: dict[str, list[dict]] = {v: [] for v in args.variants}
    for variant in args.variants:  # warm-up
        measure(models[variant], sample(2, streams, args.fps, 0), device, 2)
    for seconds in args.seconds:
        inputs = sample(seconds, streams, args.fps, args.seed)
        best: dict[str, dict] = {}
        for rep in range(args.repeats):  # interleaved, the order reversed every other time
            for variant in args.variants if rep % 2 == 0 else reversed(args.variants):
                tokens = int(models[variant].encode(*inputs)["attention_mask"].sum())
                if tokens + args.new_tokens > limit:
                    best[variant] = {"tokens": tokens}  # past the LLM's positions: sequence length only
                    continue
                got = measure(models[variant], inputs, device, args.new_tokens)
                best[variant] = {k: min(v, best.get(variant, got)[k]) for k, v in got.items()}
        for variant in args.variants:
            results[variant].append({"seconds": seconds, **best[variant]})
        row = "  ".join(f"{v} {best[v]['tokens']}/{best[v].get('step_s', float('nan')):.2f}s" for v in args.variants)
        print(f"{seconds:>5g} s  (tokens / step) {row}", flush=True)
    report(results, args)


def report(results: dict, args) -> None:
    where = args.shape or args.llm
    timed = "wall seconds" if args.device.startswith("cuda") else "CPU seconds"
    threads = torch.get_num_threads()
    print(f"\n{where}, {args.streams} stream(s) at {args.fps:g} fps, {args.device}, {threads} threads, {timed}")
    print(f"{'variant':>10} {'seconds':>7} {'tokens':>7} {'step s':>8} {'x mlp':>6} {'mem MB':>8} {'x mlp':>6}", end="")
    print(f" {'gen s':>7} {'x mlp':>6}")
    ref = {r["seconds"]: r for r in results.get("mlp", [])}
    for variant, rows in results.items():
        for r in rows:
            base = ref.get(r["seconds"], {})
            cells = [f"{variant:>10} {r['seconds']:>7g} {r['tokens']:>7}"]
            for key in ("step_s", "memory_mb", "generate_s"):
                value, against = r.get(key), base.get(key)
                cells.append(f"{value:>8.3f}" if value is not None else f"{'-':>8}")
                cells.append(f"{value / against:>6.2f}" if value and against else f"{'-':>6}")
            print(" ".join(cells))
    for against in ("mlp", "mlp/4"):
        base = {r["seconds"]: r for r in results.get(against, [])}
        for variant, rows in results.items():
            for key in ("step_s", "generate_s", "memory_mb") if variant not in ("mlp", against) else ():
                pairs = [
                    (r["seconds"], r[key] / base[r["seconds"]][key]) for r in rows if key in base.get(r["seconds"], r)
                ]
                if pairs and key in rows[0]:
                    print(f"{variant} {key} against {against}: {crossing(*map(list, zip(*pairs, strict=True)))}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1, default=str))
    if args.plot:
        title = f"connectors: {where}, {args.streams} stream(s) at {args.fps:g} fps, {args.device}, {threads} thread(s)"
        plot(results, Path(args.plot), title, "s" if timed == "wall seconds" else "CPU s")
        print(f"plot: {args.plot}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cost", help="cost against input length")
    c.add_argument("--seconds", type=lambda s: [float(x) for x in s.split(",")], default=[5, 15, 30, 60, 120])
    c.add_argument("--streams", type=int, default=1, choices=range(1, 5), help="pose, + sign2vec, dino, mae")
    c.add_argument("--repeats", type=int, default=2)
    c.add_argument("--new-tokens", type=int, default=20)
    c.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    c.add_argument("--plot", default=None)
    c.add_argument("--json", default=None)
    c.add_argument("--report", default=None, help="print and plot the figures of this --json file (measures nothing)")
    q = sub.add_parser("quality", help="quality at an equal training budget (trains every variant)")
    from connectors_quality import add_arguments  # noqa: PLC0415  (the quality half has its own module)

    add_arguments(q)
    for p in (c, q):
        p.add_argument("--variants", type=lambda s: s.split(","), default=list(VARIANTS))
        p.add_argument("--llm", default="smollm2-135m")
        p.add_argument("--shape", default=None, choices=sorted(SHAPES), help="random weights of this shape")
        p.add_argument("--tokenizer", default=None, help="with --shape: a tokenizer folder (default LLM's)")
        p.add_argument("--device", default="cpu")
        p.add_argument("--fps", type=float, default=25.0)
        p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.command == "cost" and args.report:
        saved = json.loads(Path(args.report).read_text())
        args.__dict__.update({k: v for k, v in saved["args"].items() if k not in ("plot", "report", "json")})
        if saved["args"].get("threads"):
            torch.set_num_threads(saved["args"]["threads"])
        report(saved["results"], args)
    elif args.command == "cost":
        cost(args)
    else:
        from connectors_quality import quality

        quality(args)


if __name__ == "__main__":
    main()
