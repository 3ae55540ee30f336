"""LLM sequence length per sample against temporal pooling, on real How2Sign clip lengths.

The original SignLLaVA made one LLM token per frame per stream. This counts, with the real prompt
rendered by the default LLM's tokenizer, how many tokens a translation sample takes for 1 to 4
streams at strides 1, 2, 4 and 8, over the clips' real frame counts, and the share of samples
that would not fit a 2,048-token window.

    python benchmarks/sequence_length.py [--clips ../shared/realdata/how2sign/clips] [--fps 25]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pose.video import probe
from signllava.data.tasks import Task
from signllava.model.llm import DEFAULT_LLM, resolve
from signllava.model.prompts import SPECIAL_TOKENS, render_prompt

WINDOW = 2048


def main() -> None:
    from transformers import AutoTokenizer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=Path, default=Path("../shared/realdata/how2sign/clips"))
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate the features are extracted at")
    args = parser.parse_args()
    clips = sorted(args.clips.glob("*.mp4"))
    if not clips:
        raise SystemExit(f"{args.clips}: no clips found (the shared real data is needed)")
    frames = [round(probe(c).duration * args.fps) for c in clips]
    tokenizer = AutoTokenizer.from_pretrained(resolve(DEFAULT_LLM))
    tokenizer.add_special_tokens({"additional_special_tokens": list(SPECIAL_TOKENS)})
    reference = "We are going to talk about how to remove waterproof mascara."
    context = ("You have used waterproof mascara, now how do you remove it?", "This is C.G.")
    print(
        f"{len(clips)} clips, {min(frames)}-{max(frames)} frames at {args.fps:g} fps (median {int(np.median(frames))})"
    )
    print(f"{'streams':>7} {'stride':>6} {'median tokens':>14} {'max tokens':>11} {'> 2048':>7}")
    for streams in (1, 4):
        for stride in (1, 2, 4, 8):
            lengths = []
            for n in frames:
                tokens = [-(-n // stride)] * streams
                r = render_prompt(tokenizer, Task("s", "translate", reference, None, context), tokens)
                lengths.append(len(tokenizer(r.prompt + r.answer, add_special_tokens=False)["input_ids"]))
            over = np.mean(np.array(lengths) > WINDOW)
            print(f"{streams:>7} {stride:>6} {int(np.median(lengths)):>14} {max(lengths):>11} {100 * over:>6.0f}%")


if __name__ == "__main__":
    main()
