"""Pose extraction: ours vs pose-format's ``videos_to_poses`` vs the bare MediaPipe limit.

Runs, in one command on the same machine and the same videos:
  1. ours:  ``pose.batch.run_batch`` with W workers;
  2. peer:  ``videos_to_poses --format mediapipe --num-workers W`` (pose-format's reference tool);
  3. bare:  W processes, each calling ``Holistic.process`` in a loop over frames decoded beforehand
            (decoding is not timed), videos assigned longest first — what no pipeline with the same
            settings can beat.
Prints frames, wall time, frames/s, the ratios ours/peer and ours/bare, and the per-component
mean absolute landmark difference in pixels between our .pose files and the peer's.

    python benchmarks/pose_extraction.py [--clips ../shared/realdata/how2sign/clips] [--workers 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pose.batch import run_batch
from pose.compare import mean_pixel_difference
from pose.config import ExtractConfig, HolisticConfig
from pose.io import read_pose
from pose.video import VideoStream, probe


def run_ours(clips: list[Path], out: Path, workers: int) -> tuple[int, float]:
    report = run_batch(clips, out, ExtractConfig(workers=workers), progress=False)
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


def _bare_worker(videos: list[str]) -> tuple[float, int]:
    import mediapipe as mp_

    from pose.holistic import quiet_mediapipe

    with quiet_mediapipe():
        graph = mp_.solutions.holistic.Holistic(**HolisticConfig().mediapipe_kwargs())
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


def run_bare(clips: list[Path], workers: int) -> tuple[int, float]:
    """Frames and the busiest worker's pure ``process`` time (the bound on wall time)."""
    sizes = sorted(((probe(c).num_frames, str(c)) for c in clips), reverse=True)
    shares: list[list[str]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for n, clip in sizes:  # longest first onto the least loaded worker
        i = loads.index(min(loads))
        shares[i].append(clip)
        loads[i] += n
    # a worker that dies raises BrokenProcessPool here instead of leaving the benchmark waiting
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        outcomes = list(pool.map(_bare_worker, shares))
    return sum(f for _, f in outcomes), max(b for b, _ in outcomes)


def landmark_differences(ours: Path, peer: Path, names: list[str]) -> dict[str, float]:
    """Mean |ours - peer| in pixels (x, y) per component over all clips, over points both found."""
    sums, counts = {}, {}
    for name in names:
        diffs = mean_pixel_difference(read_pose(ours / f"{name}.pose"), read_pose(peer / f"{name}.pose"))
        for comp, (mean, count) in diffs.items():
            if count:
                sums[comp] = sums.get(comp, 0.0) + mean * count
                counts[comp] = counts.get(comp, 0) + count
    return {c: sums[c] / counts[c] for c in counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=Path, default=Path("../shared/realdata/how2sign/clips"))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--limit", type=int, default=0, help="use only the first N clips (0 = all)")
    args = parser.parse_args()
    if not args.clips.is_dir():
        raise SystemExit(f"{args.clips}: folder of clips not found (the shared real data is needed)")
    clips = sorted(args.clips.glob("*.mp4"))
    if args.limit:
        clips = clips[: args.limit]
    names = [c.stem for c in clips]
    w = args.workers
    print(f"{len(clips)} clips, {w} workers, {os.cpu_count()} CPU cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "ours").mkdir()
        (tmp / "peer").mkdir()
        frames, t_ours = run_ours(clips, tmp / "ours", w)
        t_peer = run_peer(clips, tmp / "peer", w)
        bare_frames, t_bare = run_bare(clips, w)
        diffs = landmark_differences(tmp / "ours", tmp / "peer", names)
    rows = [
        ("ours (signllava extract-poses)", frames, t_ours),
        ("peer (videos_to_poses)", frames, t_peer),
        ("bare limit (Holistic.process only)", bare_frames, t_bare),
    ]
    print(f"{'run':38s} {'frames':>7s} {'wall s':>8s} {'frames/s':>9s}")
    for name, n, t in rows:
        print(f"{name:38s} {n:7d} {t:8.1f} {n / t:9.1f}")
    fps_ours, fps_peer, fps_bare = frames / t_ours, frames / t_peer, bare_frames / t_bare
    print(f"speed ratio ours/peer: {fps_ours / fps_peer:.2f}x (target >= 1.25)")
    print(f"speed ratio ours/bare: {fps_ours / fps_bare:.2f}x (target >= 0.90)")
    names = {
        "POSE_LANDMARKS": "body",
        "FACE_LANDMARKS": "face",
        "LEFT_HAND_LANDMARKS": "left hand",
        "RIGHT_HAND_LANDMARKS": "right hand",
    }
    print(
        "mean absolute landmark difference ours vs peer (pixels): "
        + ", ".join(f"{names[c]} {d:.3f}" for c, d in diffs.items())
    )


if __name__ == "__main__":
    main()
