"""Feature extraction throughput (frames/s) per stream, against a naive peer measured in the same run.

Every stream (pose view, Sign2Vec, DINO, MAE) is timed on the same clips, and the time for one hour
of 25 fps video (90,000 frames) through all four is printed against the issue's target (< 5 min on
one H100). Models are randomly initialized at their real sizes (speed does not depend on weights).

DINO: ``Dino.features`` (frames decoded ahead in a thread, all face/hand crops of ``feature_batch``
frames cut with one ``grid_sample`` call and encoded in one forward pass) against the naive loop:
one frame and one crop at a time (crop one box, encode one image). Both read the same synthsign
clips (rendered 256 x 256 videos; or ``--poses``/``--videos``) with the same randomly initialized
teacher, and the naive features are checked to match the batched ones.

    python benchmarks/feature_extraction.py [--size small] [--crop-size 224] [--frames 64]
        [--naive-frames 16] [--sign2vec-size base] [--mae-size base] [--device cpu|cuda] [--threads N]

On CUDA the forward passes run in bf16 autocast, as ``signllava extract-features`` runs them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from pose.io import read_pose
from pose.synth import SynthConfig, generate
from pose.video import VideoStream
from pretrain.crops import box_crops, part_boxes
from pretrain.data import PretrainData, list_clips
from pretrain.dino import Dino, DinoConfig, normalize
from pretrain.mae import MAEConfig, MAEObjective
from pretrain.sign2vec import Sign2Vec, Sign2VecConfig

HOUR = 90_000  # frames of one hour at 25 fps


def bench_data(tmp: str, poses: str | None, videos: str | None, split: str = "test") -> PretrainData:
    """The given clips, or two rendered synthsign documents of ``split`` generated into ``tmp``."""
    if poses:
        return PretrainData(poses=poses, videos=videos)
    synth = SynthConfig(size="tiny", render=True, documents=False, progress=False)
    synth.only_splits, synth.only_documents = [split], 2
    generate(tmp, synth)
    return PretrainData(poses=f"{tmp}/poses", videos=f"{tmp}/videos")


def truncated(pose, frames: int):
    """The pose's first ``frames`` frames (features() gives one row per pose frame)."""
    pose.body = pose.body[:frames]
    return pose


@torch.no_grad()
def naive_dino(model: Dino, pose, video: Path) -> torch.Tensor:
    """The peer: one frame decoded, then one crop cut and encoded at a time. ``(T, 3 * hidden)``."""
    config = model.config.crops()
    stream = VideoStream(video, target_fps=float(pose.body.fps))
    boxes = part_boxes(pose, config, (stream.width, stream.height))
    n, device = len(pose.body.data), model.center.device
    out = torch.zeros(n, 3, model.hidden, device=device)
    for t, frame in enumerate(stream.frames()):
        if t >= n:
            break
        for p in range(3):
            if not boxes.found[t, p]:
                continue
            box, mirror = boxes.boxes[t : t + 1, p : p + 1], boxes.mirror[t : t + 1, p : p + 1]  # (1, 1, 4), (1, 1)
            crop = box_crops(frame[None], box, config.size, mirror)  # (1, 1, 3, S, S)
            net = model.teacher[model.keys[0] if model.config.shared else model.keys[p]]
            out[t, p] = net.embed(normalize(crop[0].to(device)))[0].float()
    return out.reshape(n, model.dim)


def timed(fn, clips, device: torch.device) -> tuple[float, int, list[torch.Tensor]]:
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
    outputs, frames = [], 0
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    with autocast:
        for pose, video in clips:
            outputs.append(fn(pose, video))
            frames += len(pose.body.data)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, frames, outputs


def pick_clips(data: PretrainData, frames: int) -> list:
    """Whole clips (the last one cut) until ``frames`` frames are taken."""
    clips, total = [], 0
    for clip in list_clips(data, need_video=True):
        if total >= frames:
            break
        pose = truncated(read_pose(clip.pose), frames - total)
        clips.append((pose, clip.video))
        total += len(pose.body.data)
    return clips


def bench_stream(name: str, features, data: PretrainData, device: torch.device, frames: int) -> float:
    """frames/s of one stream's ``features(pose, video)`` after a warm-up."""
    timed(features, pick_clips(data, 4), device)
    seconds, n, _ = timed(features, pick_clips(data, frames), device)
    print(f"{name:16s} {n:5d} frames in {seconds:6.1f} s = {n / seconds:8.1f} frames/s")
    return n / seconds


def bench_all(args, data: PretrainData, device: torch.device, dino_fps: float) -> None:
    from pose.features import pose_view_208

    sign2vec = Sign2Vec(Sign2VecConfig(size=args.sign2vec_size)).to(device).eval()
    mae = MAEObjective(MAEConfig(size=args.mae_size)).to(device).eval()
    fps = {
        "pose": bench_stream("pose", lambda pose, video: pose_view_208(pose)[0], data, device, args.frames),
        "sign2vec": bench_stream(f"sign2vec ({args.sign2vec_size})", sign2vec.features, data, device, args.frames),
        "mae": bench_stream(f"mae ({args.mae_size})", mae.features, data, device, args.frames),
        "dino": dino_fps,
    }
    total = sum(HOUR / v for v in fps.values())
    print(
        f"one hour of 25 fps video through all four streams: {total / 60:.1f} min "
        f"({', '.join(f'{k} {HOUR / v / 60:.1f}' for k, v in fps.items())}); target < 5 min on one H100"
    )


def bench_dino(args, data: PretrainData, device: torch.device) -> float:
    crop = args.crop_size  # local views play no part in features()
    config = DinoConfig(size=args.size, crop_size=crop, global_size=crop, local_size=crop, out_dim=256)
    config.head_hidden = config.head_bottleneck = 64  # the head plays no part in features()
    model = Dino(config).to(device).eval()
    print(f"dino: ViT {args.size}, {args.crop_size} px crops, feature_batch {config.feature_batch}, device {device}")
    timed(model.features, pick_clips(data, 4), device)  # warm-up: allocator, kernels, lazy imports
    seconds, frames, batched = timed(model.features, pick_clips(data, args.frames), device)
    fast = frames / seconds
    print(f"  batched features():          {frames:5d} frames in {seconds:6.1f} s = {fast:8.1f} frames/s")
    naive_clips = pick_clips(data, args.naive_frames)
    seconds, frames, naive = timed(lambda p, v: naive_dino(model, p, v), naive_clips, device)
    slow = frames / seconds
    print(f"  naive (1 frame, 1 crop):     {frames:5d} frames in {seconds:6.1f} s = {slow:8.1f} frames/s")
    diff = max(float((a - b[: len(a)]).abs().max()) for a, b in zip(naive, batched, strict=False))
    print(f"  ratio batched / naive: {fast / slow:.1f}x   (max |difference| of the features: {diff:.2e})")
    return fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small", help="DINO backbone preset: tiny, small (ViT-S/14), base")
    parser.add_argument("--sign2vec-size", default="base", help="Sign2Vec preset: tiny, small, base")
    parser.add_argument("--mae-size", default="base", help="MAE preset: tiny, small, base (ViT-B/16)")
    parser.add_argument("--crop-size", type=int, default=224)
    parser.add_argument("--frames", type=int, default=64, help="frames for the batched path")
    parser.add_argument("--naive-frames", type=int, default=16, help="frames for the naive loop (it is slow)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--poses", help="a folder of .pose files (default: generate synthsign)")
    parser.add_argument("--videos", help="their videos (same stems)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    np.random.seed(0)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        data = bench_data(tmp, args.poses, args.videos)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
        bench_all(args, data, device, bench_dino(args, data, device))


if __name__ == "__main__":
    main()
