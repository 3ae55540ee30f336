"""Decoding with the LLM's linear weights in float32 or float16 (``half_weights``) on the CPU.

A small LLM decoding on a CPU is bound by reading its weights from memory at every step. With
``Translator.load(half_weights=True)`` (the default) the LLM's linear layers keep their weights in
float16 and fbgemm's kernels multiply them with float32 activations. This measures what that saves
on the embedded default model (the real SmolLM2-135M, LoRA folded in) translating held-out synthsign
test sentences one clip at a time, as ``translate`` does (the previous sentence as context), with
both models loaded in one process and run alternately on the same inputs (each goes first in turn).
Prints seconds per clip, the speed ratio, on how many clips the answers agree, and how many of
each model's answers are the reference word for word.

    python benchmarks/half_weights.py --documents 6 --beams 5
"""

from __future__ import annotations

import argparse
import time

import torch
from heldout_clips import heldout_items  # benchmarks/ is on sys.path when a script there runs

from signllava.data.dataset import SignCollator
from signllava.inference.translator import Translator
from signllava.metrics import same_words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=6, help="held-out synthsign test documents")
    parser.add_argument("--beams", type=int, default=5)
    parser.add_argument("--workdir", default="out/bench-beam-prefill")
    args = parser.parse_args()
    models = {
        "float32": Translator.load(device="cpu", half_weights=False),
        "float16": Translator.load(device="cpu", half_weights=True),
    }
    items, references = heldout_items(models["float32"], args.documents, args.workdir)
    seconds = dict.fromkeys(models, 0.0)
    answers = {name: [] for name in models}
    order = list(models)
    for i, item in enumerate([items[0], *items]):  # the first clip warms both up
        batch = SignCollator()([item])
        for name in order[i % 2 :] + order[: i % 2]:
            start = time.perf_counter()
            out = models[name].model.generate(
                batch["tasks"], batch["streams"], batch["stream_mask"], num_beams=args.beams
            )
            if i:
                seconds[name] += time.perf_counter() - start
                answers[name].extend(out)
    n = len(items)
    same = sum(a == b for a, b in zip(answers["float32"], answers["float16"], strict=True))
    print(f"{n} clips, beam {args.beams}, {torch.get_num_threads()} threads; answers agree on {same}/{n}")
    for name in models:
        exact = sum(same_words(a, r) for a, r in zip(answers[name], references, strict=True))
        print(f"  {name} weights: {seconds[name] / n:6.3f} s/clip, {exact}/{n} the reference word for word")
    print(f"  float16 weights are {seconds['float32'] / seconds['float16']:.2f}x faster")
    for t in models.values():
        t.close()


if __name__ == "__main__":
    main()
