"""Pose extraction: ours (both pose backends) vs pose-format's ``videos_to_poses`` vs the bare MediaPipe limit.

Runs, in one command on the same machine and the same videos:
  1. ours:  ``pose.batch.run_batch`` with W workers, with the legacy Holistic graph;
  2. ours, tasks: the same with ``holistic.backend=tasks`` (the Tasks HolisticLandmarker);
  3. peer:  ``videos_to_poses --format mediapipe --num-workers W`` (pose-format's reference tool);
  4. bare:  W processes, each calling ``Holistic.process`` in a loop over frames decoded beforehand
            (decoding is not timed), videos assigned longest first — what no pipeline with the same
            settings can beat; and the same for the Tasks graph.
Prints frames, wall time, frames/s, the ratios ours/peer, ours/bare and tasks/legacy, the per-component
mean absolute landmark difference in pixels between our .pose files and the peer's, and between the
two backends' (with the share of frames where both find a hand or both miss it). A backend whose
mediapipe is not installed is left out (on Python 3.13 only the Tasks one runs; the peer needs the legacy one).

    python benchmarks/pose_extraction.py [--clips ../shared/realdata/how2sign/clips] [--workers 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pose.batch import run_batch
from pose.compare import found_agreement, mean_pixel_difference
from pose.config import ExtractConfig, HolisticConfig, backend_problem
from pose.holistic import open_graph, prepared
from pose.io import read_pose
from pose.video import VideoStream, probe


def run_ours(clips: list[Path], out: Path, workers: int, backend: str = "legacy") -> tuple[int, float]:
    config = ExtractConfig(workers=workers, holistic=HolisticConfig(backend=backend))
    report = run_batch(clips, out, config, progress=False)
    if report.failed:
        raise SystemExit(f"ours failed on: {[o.error for o in report.failed]}")
    return report.frames, report.wall_seconds


def run_peer(clips: list[Path], work: Path, workers: int) -> float:
    for clip in clips:
        shutil.copy(clip, work / clip.name)
    exe = Path(sys.executable).with_name("videos_to_poses")
    cmd = [str(exe), "--format", "mediapipe", "--num-workers", str(workers), "-d", str(work)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _bare_worker(videos: list[str], holistic: HolisticConfig) -> tuple[float, int]:
    from pose.holistic import quiet_mediapipe

    with quiet_mediapipe():
        graph = open_graph(holistic)  # legacy: mp.solutions.holistic.Holistic itself
        busy, frames = 0.0, 0
        for video in videos:
            decoded = list(VideoStream(video).frames())  # decoded before timing
            graph.reset()
            start = time.perf_counter()
            for frame in decoded:
                graph.process(frame)
            busy += time.perf_counter() - start
            frames += len(decoded)
        graph.close()
    return busy, frames


def run_bare(clips: list[Path], workers: int, backend: str = "legacy") -> tuple[int, float]:
    """Frames and the busiest worker's pure ``process`` time (the bound on wall time)."""
    holistic = prepared(HolisticConfig(backend=backend))  # the Tasks bundle built before the workers start
    sizes = sorted(((probe(c).num_frames, str(c)) for c in clips), reverse=True)
    shares: list[list[str]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for n, clip in sizes:  # longest first onto the least loaded worker
        i = loads.index(min(loads))
        shares[i].append(clip)
        loads[i] += n
    # a worker that dies raises BrokenProcessPool here instead of leaving the benchmark waiting
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        outcomes = list(pool.map(_bare_worker, shares, [holistic] * workers))
    return sum(f for _, f in outcomes), max(b for b, _ in outcomes)


def landmark_differences(ours: Path, peer: Path, names: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean |ours - peer| in pixels (x, y) per component over all clips, over points both found; and
    per component the share of frames where both found it or both missed it."""
    sums, counts, same, frames = {}, {}, {}, {}
    for name in names:
        a, b = read_pose(ours / f"{name}.pose"), read_pose(peer / f"{name}.pose")
        for comp, (mean, count) in mean_pixel_difference(a, b).items():
            if count:
                sums[comp] = sums.get(comp, 0.0) + mean * count
                counts[comp] = counts.get(comp, 0) + count
        for comp, (agree, n) in found_agreement(a, b).items():
            same[comp] = same.get(comp, 0) + agree
            frames[comp] = frames.get(comp, 0) + n
    return {c: sums[c] / counts[c] for c in counts}, {c: same[c] / frames[c] for c in frames}


NAMES = {
    "POSE_LANDMARKS": "body",
    "FACE_LANDMARKS": "face",
    "LEFT_HAND_LANDMARKS": "left hand",
    "RIGHT_HAND_LANDMARKS": "right hand",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=Path, default=Path("../shared/realdata/how2sign/clips"))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--limit", type=int, default=0, help="use only the first N clips (0 = all)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every variant this many times, in a rotated order each round, and report medians "
        "(a shared machine's load drifts over minutes: interleaving cancels it out of the ratios)",
    )
    args = parser.parse_args()
    if not args.clips.is_dir():
        raise SystemExit(f"{args.clips}: folder of clips not found (the shared real data is needed)")
    clips = sorted(args.clips.glob("*.mp4"))
    if args.limit:
        clips = clips[: args.limit]
    names = [c.stem for c in clips]
    w = args.workers
    legacy, tasks = backend_problem("legacy") is None, backend_problem("tasks") is None
    print(f"{len(clips)} clips, {w} workers, {os.cpu_count()} CPU cores; backends: legacy {legacy}, tasks {tasks}")
    frames, times = {}, {}  # per variant: frames, wall seconds of each round
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = [
            ("ours", "ours (signllava extract-poses, legacy)", legacy, lambda out: run_ours(clips, out, w)),
            ("tasks", "ours, --pose-backend tasks", tasks, lambda out: run_ours(clips, out, w, "tasks")),
            ("peer", "peer (videos_to_poses)", legacy, lambda out: (None, run_peer(clips, out, w))),
            ("bare", "bare limit (Holistic.process only)", legacy, lambda out: run_bare(clips, w)),
            ("bare_tasks", "bare limit, Tasks graph (process only)", tasks, lambda out: run_bare(clips, w, "tasks")),
        ]
        runs = [r for r in runs if r[2]]
        labels = {key: label for key, label, _, _ in runs}
        for r in range(args.rounds):
            for key, _, _, run in runs[r % len(runs) :] + runs[: r % len(runs)]:
                out = tmp / key
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                n, t = run(out)
                frames[key] = n
                times.setdefault(key, []).append(t)
        if "peer" in frames:  # videos_to_poses counts no frames: it ran the same clips as ours
            frames["peer"] = frames["ours"]
        diffs = landmark_differences(tmp / "ours", tmp / "peer", names) if legacy else None
        backends = landmark_differences(tmp / "tasks", tmp / "ours", names) if legacy and tasks else None
    fps = {key: frames[key] / statistics.median(ts) for key, ts in times.items()}
    print(f"{'run (median of ' + str(args.rounds) + ')':40s} {'frames':>7s} {'wall s':>8s} {'frames/s':>9s}")
    for key, ts in times.items():
        print(f"{labels[key]:40s} {frames[key]:7d} {statistics.median(ts):8.1f} {fps[key]:9.1f}")

    def ratio(a: str, b: str) -> str:
        """The median over rounds of a's speed over b's in the same round."""
        each = [(frames[a] / ta) / (frames[b] / tb) for ta, tb in zip(times[a], times[b], strict=True)]
        spread = f" (rounds: {', '.join(f'{x:.2f}' for x in each)})" if len(each) > 1 else ""
        return f"{statistics.median(each):.2f}x{spread}"

    for a, b, target in (("ours", "peer", 1.25), ("ours", "bare", 0.90), ("tasks", "ours", None)):
        if a in fps and b in fps:
            print(f"speed ratio {a}/{b}: {ratio(a, b)}" + (f" (target >= {target:.2f})" if target else ""))
    for a, b in (("tasks", "bare_tasks"), ("bare_tasks", "bare")):
        if a in fps and b in fps:
            print(f"speed ratio {a}/{b}: {ratio(a, b)}")
    if diffs:
        print(
            "mean absolute landmark difference ours vs peer (pixels): "
            + ", ".join(f"{NAMES[c]} {d:.3f}" for c, d in diffs[0].items())
        )
    if backends:
        print(
            "mean absolute landmark difference tasks vs legacy (pixels): "
            + ", ".join(f"{NAMES[c]} {d:.3f}" for c, d in backends[0].items())
        )
        print(
            "frames where tasks and legacy both find or both miss it: "
            + ", ".join(f"{NAMES[c]} {s:.1%}" for c, s in backends[1].items())
        )


if __name__ == "__main__":
    main()
