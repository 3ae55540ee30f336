"""10 clips in one ``signllava translate ... -o OUT/`` call against 10 separate ``signllava translate`` calls.

Both sides are fresh CLI processes on the same clips, in the same run, each with an empty pose cache
(the converted LLM is shared, as on any machine after its first run). The separate calls each start
Python, load the model, spawn the pose workers and extract one clip; the one call does that once,
and extracts the next clip's poses while the current one decodes. Before both, one untimed call
warms the file cache for both sides alike. The ratio is the separate calls' wall time over the one call's.

  python benchmarks/translate_many.py [--clips ../shared/realdata/how2sign/clips] [--limit 10] [--beam 5]
  SMOKE=1 python benchmarks/translate_many.py     # 2 clips, beam 1: that it runs

The default clips are real How2Sign videos: poses must be extracted, so the overlap of one clip's
poses with the previous clip's decoding is part of what is measured. A folder of ``.pose`` files
(e.g. synthsign clips, ``--clips out/demo/poses``) measures the start-up and model loading alone.
Without ``--checkpoint`` it runs the embedded default model.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pose.io import pose_seconds
from pose.video import probe
from signllava.model.llm import cache_dir


def translate(args: list[str], cache: Path) -> float:
    """Wall seconds of one ``signllava translate`` process with its own (empty) pose cache."""
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "llm").exists():
        os.symlink(cache_dir() / "llm", cache / "llm")
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "signllava", "translate", *args, "-q"],
        capture_output=True,
        text=True,
        env=dict(os.environ, SIGNLLAVA_CACHE=str(cache)),
    )
    seconds = time.perf_counter() - start
    if out.returncode:
        raise SystemExit(f"signllava translate {' '.join(args)} failed:\n{out.stderr}")
    return seconds


def main() -> None:
    smoke = os.environ.get("SMOKE") == "1"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, help="a checkpoint folder (default: the embedded model)")
    parser.add_argument("--clips", type=Path, default=Path("../shared/realdata/how2sign/clips"))
    parser.add_argument("--limit", type=int, default=2 if smoke else 10, help="the first N clips")
    parser.add_argument("--beam", type=int, default=1 if smoke else 5, help="beam size (5: the CLI's default)")
    args = parser.parse_args()
    clips = sorted([*args.clips.glob("*.mp4"), *args.clips.glob("*.pose")])[: args.limit]
    if not clips:
        raise SystemExit(f"{args.clips}: no .mp4 or .pose clips found (the shared real data is needed)")
    seconds = sum(pose_seconds(c) if c.suffix == ".pose" else probe(c).duration for c in clips)
    common = ["--beam", str(args.beam), "--device", "cpu"]
    common += ["--checkpoint", str(args.checkpoint)] if args.checkpoint else []
    (cache_dir() / "llm").mkdir(parents=True, exist_ok=True)  # the first call converts the LLM there, untimed
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("warm-up: one untimed call ...", file=sys.stderr)
        translate([str(clips[0]), *common, "-o", str(tmp / "warm.txt")], tmp / "warm-cache")
        print(f"{len(clips)} separate calls ...", file=sys.stderr)
        separate = [
            translate([str(c), *common, "-o", str(tmp / "separate" / f"{c.stem}.txt")], tmp / "separate-cache")
            for c in clips
        ]
        print(f"one call on {len(clips)} clips ...", file=sys.stderr)
        one = translate([*map(str, clips), *common, "-o", str(tmp / "one")], tmp / "one-cache")
        same = sum(
            (tmp / "separate" / f"{c.stem}.txt").read_text() == (tmp / "one" / f"{c.stem}.txt").read_text()
            for c in clips
        )
    kind = "videos" if clips[0].suffix != ".pose" else ".pose files"
    print(
        f"{len(clips)} clips ({kind}, {seconds:.1f} s in all), beam {args.beam}, {os.cpu_count()} CPU cores, "
        f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print(f"{len(clips)} separate calls: {sum(separate):.1f} s ({sum(separate) / len(clips):.1f} s a clip)")
    print(f"one call, -o FOLDER:  {one:.1f} s ({one / len(clips):.1f} s a clip)")
    print(f"-> one call is {sum(separate) / one:.2f}x faster; {same} of {len(clips)} outputs identical")


if __name__ == "__main__":
    main()
