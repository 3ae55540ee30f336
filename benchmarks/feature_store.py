"""Feature store random access: ``FeatureStore[clip]`` vs one ``.npy`` per clip vs the JSALT HDF5 layout.

Writes the same clips (float16, ~``--frames`` frames x ``--dim``, lengths drawn from 0.5x to 1.5x)
three ways in one run, then reads them back in one random order (with repeats) and prints reads/s,
MB/s and the ratios against the peers:
  1. ours:  ``pretrain.store`` (4 shards, as 4 SLURM jobs would write them), one ``pread`` per clip;
  2. npy:   one ``.npy`` file per clip, ``np.load`` per read (the simple baseline);
  3. jsalt: the original layout, HDF5 ``{video: {clip: (T, D)}}``, read through ``JsaltFeatures``.
Files sit in the page cache after writing, so this measures the per-read overhead of each format,
not the disk. Every variant gets the same order; rounds alternate variants and the best is kept.

    python benchmarks/feature_store.py [--clips 2000] [--frames 100] [--dim 1152] [--reads 20000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from pretrain.store import FeatureStore


def make_data(clips: int, frames: int, dim: int, seed: int = 0) -> tuple[np.ndarray, dict[str, slice]]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(frames // 2, frames * 3 // 2 + 1, clips)
    pool = rng.standard_normal((int(lengths.sum()), dim), dtype=np.float32).astype(np.float16)  # (N, D)
    ends = np.cumsum(lengths)
    rows = [slice(int(e - n), int(e)) for n, e in zip(lengths, ends, strict=True)]
    return pool, {f"video{i // 10:04d}_{i % 10}": r for i, r in enumerate(rows)}  # 10 clips per video


def write_ours(root: Path, pool: np.ndarray, clips: dict[str, slice], jobs: int = 4) -> float:
    start = time.perf_counter()
    names = list(clips)
    for j in range(jobs):
        with FeatureStore.writer(root, "dino", f"job{j}", dim=pool.shape[1]) as w:
            for name in names[j::jobs]:
                w.add(name, pool[clips[name]])
    FeatureStore.merge(root, "dino")
    return time.perf_counter() - start


def write_npy(root: Path, pool: np.ndarray, clips: dict[str, slice]) -> float:
    start = time.perf_counter()
    root.mkdir(parents=True)
    for name, rows in clips.items():
        np.save(root / f"{name}.npy", pool[rows])
    return time.perf_counter() - start


def write_jsalt(root: Path, pool: np.ndarray, clips: dict[str, slice]) -> tuple[Path, float]:
    import h5py

    start = time.perf_counter()
    root.mkdir(parents=True)
    index = {}
    with h5py.File(root / "bench.dino.train.0.h5", "w") as f:
        for name, rows in clips.items():
            video = name.split("_")[0]
            index[video] = 0
            group = f.require_group(video)
            group.create_dataset(name, data=pool[rows])
    (root / "bench.dino.train.json").write_text(json.dumps(index))
    return root / "bench.dino.train.json", time.perf_counter() - start


def timed_reads(read, order: list[str]) -> tuple[float, int]:
    nbytes = 0
    start = time.perf_counter()
    for name in order:
        nbytes += read(name).nbytes
    return time.perf_counter() - start, nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=100, help="mean frames per clip")
    parser.add_argument("--dim", type=int, default=1152)
    parser.add_argument("--reads", type=int, default=20000, help="random reads per variant and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary folder)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="feature_store_bench.", dir=args.dir))
    try:
        pool, clips = make_data(args.clips, args.frames, args.dim)
        print(
            f"{len(clips)} clips, {pool.shape[0]} frames x {args.dim} float16 = {pool.nbytes / 1e6:.0f} MB, in {work}"
        )
        wrote = {"ours": write_ours(work / "store", pool, clips), "npy": write_npy(work / "npy", pool, clips)}
        readers = {"ours": None, "npy": lambda name: np.load(work / "npy" / f"{name}.npy")}
        try:
            from pretrain.jsalt import JsaltFeatures

            index, wrote["jsalt"] = write_jsalt(work / "jsalt", pool, clips)
            readers["jsalt"] = JsaltFeatures.open(index).read
        except ImportError:
            print("h5py is not installed: the JSALT HDF5 variant is skipped")

        start = time.perf_counter()
        store = FeatureStore.open(work / "store", "dino")
        open_s = time.perf_counter() - start
        readers["ours"] = store.read
        rng = np.random.default_rng(1)
        names = list(clips)
        order = [names[i] for i in rng.integers(0, len(names), args.reads)]
        for name in names[:: max(1, len(names) // 50)]:  # same answers everywhere
            for read in readers.values():
                assert np.array_equal(read(name), pool[clips[name]]), name
        best: dict[str, tuple[float, int]] = {}
        for _ in range(args.rounds):
            for variant, read in readers.items():
                seconds, nbytes = timed_reads(read, order)
                if variant not in best or seconds < best[variant][0]:
                    best[variant] = (seconds, nbytes)

        print(f"\nFeatureStore.open (merged index present): {open_s * 1000:.1f} ms")
        print(f"{'variant':<8} {'write s':>8} {'reads/s':>10} {'us/read':>8} {'MB/s':>8}")
        rate = {}
        for variant, (seconds, nbytes) in best.items():
            rate[variant] = len(order) / seconds
            print(
                f"{variant:<8} {wrote[variant]:>8.2f} {rate[variant]:>10.0f} "
                f"{seconds / len(order) * 1e6:>8.1f} {nbytes / seconds / 1e6:>8.0f}"
            )
        for peer in ("npy", "jsalt"):
            if peer in rate:
                print(f"ours / {peer}: {rate['ours'] / rate[peer]:.2f}x reads/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
