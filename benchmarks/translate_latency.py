"""End-to-end `translate` latency on real clips: warm, cached and cold-start, in one run.

* warm: one ``Translator`` reused; per clip, poses extracted (empty cache) then the model; the
  real-time factor is processing time / clip duration, per stage; the peer is the same with one
  MediaPipe graph in-process (``pose_workers=1``) instead of one per core;
* cached: the same clips again (poses come from the content-hash cache): speed-up over warm;
* cold start: ``signllava translate`` as a fresh process on one clip (poses not cached), wall time
  from process start to output, against the warm in-process time of the same clip;
* peak resident memory of that CLI process.

  python benchmarks/translate_latency.py [--checkpoint RUN/last] [--clips ../shared/realdata/how2sign/clips]

Without ``--checkpoint`` it runs the embedded default model (pose stream, SmolLM2-135M).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from pose.video import probe
from signllava.inference.translator import Translator
from signllava.model.llm import cache_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, help="a pose-stream checkpoint folder (default: the embedded model)")
    parser.add_argument("--clips", type=Path, default=Path("../shared/realdata/how2sign/clips"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips (0 = all)")
    parser.add_argument("--beam", type=int, default=5, help="beam size (5: the CLI's default)")
    args = parser.parse_args()
    clips = sorted(args.clips.glob("*.mp4"))[: args.limit or None]
    if not clips:
        raise SystemExit(f"{args.clips}: no clips found (the shared real data is needed)")
    duration = {c: probe(c).duration for c in clips}
    with tempfile.TemporaryDirectory() as tmp:
        # cold start first: a fresh process, converted LLM available, this clip's poses not cached. First,
        # because a child's peak RSS on Linux starts from its parent's RSS at the fork (kept across exec):
        # measured after this process loaded its translators, it would report their memory, not its own
        env = dict(os.environ, SIGNLLAVA_CACHE=str(Path(tmp) / "cold"))
        (Path(tmp) / "cold").mkdir()
        os.symlink(cache_dir() / "llm", Path(tmp) / "cold" / "llm")
        cold_clip = clips[0]
        print(f"cold start: a fresh `signllava translate {cold_clip.name}` ...", file=sys.stderr)
        start = time.perf_counter()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "signllava",
                "translate",
                str(cold_clip),
                *(["--checkpoint", str(args.checkpoint)] if args.checkpoint else []),
                "--beam",
                str(args.beam),
                "--device",
                "cpu",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        cold = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        shutil.rmtree(Path(tmp) / "cold", ignore_errors=True)
        if out.returncode:
            raise SystemExit(out.stderr)
        # alternating per clip, so that neither pass gets a warmer file cache or machine
        single = Translator.load(args.checkpoint, "cpu", cache=Path(tmp) / "poses1", pose_workers=1)
        translator = Translator.load(args.checkpoint, "cpu", cache=Path(tmp) / "poses")
        translator.extractor.start()  # the workers are part of loading, as in the CLI's cold start above
        (peer, peer_stages), (warm, stages) = ({}, {}), ({}, {})
        for clip in tqdm(clips, desc="warm, both pipelines", unit="clip"):
            for t, times, per_stage in ((single, peer, peer_stages), (translator, warm, stages)):
                start = time.perf_counter()
                t.translate(clip, num_beams=args.beam)
                times[clip] = time.perf_counter() - start
                for k, v in t.timings.stages.items():
                    per_stage[k] = per_stage.get(k, 0.0) + v
        single.close()
        cached = {}
        for clip in tqdm(clips, desc="cached", unit="clip"):
            start = time.perf_counter()
            translator.translate(clip, num_beams=args.beam)
            cached[clip] = time.perf_counter() - start
    total_video = sum(duration.values())
    print(f"{len(clips)} clips, {total_video:.1f} s of video, beam {args.beam}, {os.cpu_count()} CPU cores")
    print(
        "warm real-time factor (processing / video): "
        f"{sum(warm.values()) / total_video:.2f} (target <= 1.0); per stage: "
        + ", ".join(f"{k} {v / total_video:.2f}" for k, v in stages.items())
    )
    print(
        f"peer, one graph in-process: real-time factor {sum(peer.values()) / total_video:.2f} (poses "
        f"{peer_stages.get('poses', 0) / total_video:.2f}); one graph per core is "
        f"{sum(peer.values()) / sum(warm.values()):.2f}x faster end to end, "
        f"{peer_stages.get('poses', 0) / stages.get('poses', 1):.2f}x on poses"
    )
    print(
        f"cached second run: {sum(cached.values()):.2f} s vs {sum(warm.values()):.2f} s -> "
        f"{sum(warm.values()) / sum(cached.values()):.1f}x faster (target >= 5)"
    )
    print(
        f"cold start (fresh CLI process, {cold_clip.name}): {cold:.2f} s vs warm {warm[cold_clip]:.2f} s -> "
        f"+{cold - warm[cold_clip]:.2f} s (target <= 10)"
    )
    print(f"peak resident memory of the CLI run (its largest process): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
