"""Training step with and without the shared prompt prefix (SignLLaVA.cached_llm.shared_prefix), same batches.

Every translation sample starts with the same chat-template head and system prompt; with a frozen
LLM the model computes their keys and values once per batch, without gradients, instead of once per
sample with gradients. This measures what that saves on the embedded default model's shapes: the
real SmolLM2-135M, the default model's projector (pose stream, stride 4, two temporal blocks),
synthsign-sized clips (~97 frames, 3-8 signs) and the recipe's context (one prelude and one
preceding sentence). Both variants run interleaved in one process on identical batches; prints
seconds per step, tokens per step, the loss of each (they must agree) and the speed ratio.

    python benchmarks/prefix_sharing.py --batch 8 --steps 6
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from signllava.data.dataset import SignCollator
from signllava.data.tasks import Task
from signllava.model.llm import load_llm
from signllava.model.model import ModelConfig, SignLLaVA, StreamConfig

SENTENCES = [
    "I went to the store yesterday.",
    "My friend does not like coffee.",
    "Where do you live?",
    "The coach will meet your sister at the game tomorrow.",
    "Do we like parties?",
    "Your brother will not go to the store tomorrow.",
]


def batches(n: int, batch: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for b in range(n):
        items = []
        for i in range(batch):
            k = b * batch + i
            context = (SENTENCES[k % 6], SENTENCES[(k + 2) % 6])
            frames = int(rng.integers(60, 140))
            items.append(
                {
                    "sentence": f"s{k}",
                    "task": Task(f"s{k}", "translate", SENTENCES[(k + 1) % 6], context=context),
                    "streams": {"pose": torch.from_numpy(rng.standard_normal((frames, 208)).astype(np.float32))},
                    "glosses": (),
                }
            )
        out.append(SignCollator()(items))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=6, help="timed steps per variant")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(0)
    llm, tokenizer = load_llm("smollm2-135m", torch.device(args.device))
    stream = StreamConfig(208, stride=4, out_norm="rms", temporal=2)
    model = SignLLaVA(ModelConfig(streams={"pose": stream}), llm, tokenizer)
    model.train()
    model.llm.eval()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.0)  # weights stay put
    data = batches(args.steps + 1, args.batch)
    enc = model.encode(data[0]["tasks"], data[0]["streams"], data[0]["stream_mask"])
    prefix = model.cached_llm.shared_prefix(enc["input_ids"], enc["attention_mask"])
    variants = {"shared prefix": 8, "no sharing": 10**9}  # cached_llm.min_shared_prefix
    seconds = {name: 0.0 for name in variants}
    losses = {name: [] for name in variants}
    tokens = int(enc["attention_mask"].sum()) / args.batch
    for step, batch in enumerate(data):
        for name, minimum in variants.items() if step % 2 == 0 else reversed(variants.items()):
            model.cached_llm.min_shared_prefix = minimum
            start = time.perf_counter()
            loss = model(batch["tasks"], batch["streams"], batch["stream_mask"])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if step:  # the first batch warms up
                seconds[name] += time.perf_counter() - start
                losses[name].append(loss.item())
    print(
        f"SmolLM2-135M, default-model projector, batch {args.batch}, ~{tokens:.0f} tokens/sample, "
        f"shared prefix {prefix} tokens, {args.steps} steps each ({torch.get_num_threads()} threads, {args.device})"
    )
    for name in variants:
        print(f"{name:14s} {seconds[name] / args.steps:7.3f} s/step  mean loss {np.mean(losses[name]):.5f}")
    print(f"speed-up shared / none: {seconds['no sharing'] / seconds['shared prefix']:.2f}x")


if __name__ == "__main__":
    main()
