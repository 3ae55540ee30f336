"""Prompt prefill in generation: beam search with the prompt prefilled once per beam or once per
sample (SignLLaVA.cached_llm.share_beam_prefill), and the prompts' common text head computed at every call or
kept across calls (SignLLaVA.cached_llm.keep_prompt_head).

``transformers``' beam search expands its inputs to one row per beam before the first forward, so
each prompt (chat template, system prompt, context sentences, the clip's sign tokens: ~100-200
tokens) is computed once per beam. SignLLaVA instead computes the prompts' KV cache once per sample
and repeats it over the beams; and where a batch is not padded (``translate``, ``ask``: one clip at
a time) it keeps the KV cache of the text every prompt starts with (the system prompt: 38 tokens)
from one call to the next. This measures what each saves on the embedded default model (the real
SmolLM2-135M, LoRA folded in) translating held-out synthsign test documents (generated into
``--workdir`` on the first run) as ``translate`` does (one clip at a time, the previous sentence as
context) and as ``evaluate`` does (batches). The variants run interleaved in one process on the
same inputs; prints seconds per clip, whether the answers agree (they must) and the speed ratios.

    python benchmarks/prompt_prefill.py --documents 2 --beams 5 --batch 8
"""

from __future__ import annotations

import argparse
import time

import torch
from heldout_clips import heldout_items  # benchmarks/ is on sys.path when a script there runs

from signllava.data.dataset import SignCollator
from signllava.inference.translator import Translator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=2, help="held-out synthsign test documents")
    parser.add_argument("--beams", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8, help="batch size of the evaluate-like pass")
    parser.add_argument("--workdir", default="out/bench-beam-prefill")
    args = parser.parse_args()
    translator = Translator.load()
    model = translator.model
    items, _ = heldout_items(translator, args.documents, args.workdir)
    singles = [[item] for item in items]
    batches = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
    variants = {  # (share_beam_prefill, keep_prompt_head)
        "once per beam": (False, False),
        "prefill once": (True, False),
        "+ head kept": (True, True),
    }
    for label, groups in (
        ("one clip at a time (translate)", singles),
        (f"batches of {args.batch} (evaluate)", batches),
    ):
        seconds = {name: 0.0 for name in variants}
        answers = {name: [] for name in variants}
        order = list(variants)
        for i, group in enumerate([groups[0], *groups]):
            batch = SignCollator()(group)
            for name in order[i % 3 :] + order[: i % 3]:  # each variant goes first in turn
                model.cached_llm.share_beam_prefill, model.cached_llm.keep_prompt_head = variants[name]
                start = time.perf_counter()
                out = model.generate(
                    batch["tasks"], batch["streams"], batch["stream_mask"], num_beams=args.beams, no_repeat_ngram_size=3
                )
                if i:  # the first group warms up
                    seconds[name] += time.perf_counter() - start
                    answers[name].extend(out)
        n = len(items)
        same = sum(len(set(a)) == 1 for a in zip(*answers.values(), strict=True))
        print(f"{label}: {n} clips, beam {args.beams}, {torch.get_num_threads()} threads; answers agree on {same}/{n}")
        for name in variants:
            print(f"  {name:14s} {seconds[name] / n:6.3f} s/clip")
        print(
            f"  speed-up: prefill once {seconds['once per beam'] / seconds['prefill once']:.2f}x, "
            f"head kept {seconds['prefill once'] / seconds['+ head kept']:.2f}x on top "
            f"({seconds['once per beam'] / seconds['+ head kept']:.2f}x in all)"
        )
    translator.close()


if __name__ == "__main__":
    main()
