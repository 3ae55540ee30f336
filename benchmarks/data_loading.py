"""Training DataLoader throughput: feature store vs one .npy file per clip, all four streams.

Generates a synthsign set (or uses ``--data``), takes its real 208-value pose features, adds the
other three streams at their real sizes (sign2vec 768, dino 1152, mae 768; random values, same
frame counts), writes them once into a feature store and once as one ``.npy`` per clip and
stream (the naive layout), then times the same SignDataset + SignCollator + DataLoader over both
in one run and prints samples/s and the ratio.

    python benchmarks/data_loading.py [--size medium] [--workers 2] [--batch-size 16] [--epochs 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from torch.utils.data import DataLoader

from pose.synth import SynthConfig, generate
from pretrain import FeatureStore
from signllava.data.dataset import FeatureSource, SignCollator, SignDataset
from signllava.data.how2sign import check
from signllava.data.poses import sentence_features
from signllava.data.tasks import TaskBuilder

DIMS = {"pose": 208, "sign2vec": 768, "dino": 1152, "mae": 768}


class NpyClips:
    """The naive layout: ``<root>/<stream>/<clip>.npy``, one np.load per read."""

    def __init__(self, root: Path, stream: str):
        self.dir = root / stream

    def __getitem__(self, clip: str) -> np.ndarray:
        return np.load(self.dir / f"{clip}.npy")

    def __contains__(self, clip: object) -> bool:
        return (self.dir / f"{clip}.npy").is_file()


def prepare(data: Path, work: Path) -> list:
    sentences = check(sorted(data.glob("how2sign_realigned_*.csv"))).kept
    rng = np.random.default_rng(0)
    writers = {s: FeatureStore.writer(work / "store", s, "bench", dim=d) for s, d in DIMS.items()}
    for w in writers.values():
        w.__enter__()
    try:
        for sentence, pose in sentence_features(sentences, data / "poses"):
            for stream, dim in DIMS.items():
                x = pose if stream == "pose" else rng.standard_normal((len(pose), dim)).astype(np.float16)
                writers[stream].add(sentence.sentence_name, x)
                (work / "npy" / stream).mkdir(parents=True, exist_ok=True)
                np.save(work / "npy" / stream / f"{sentence.sentence_name}.npy", np.asarray(x, np.float16))
    finally:
        for w in writers.values():
            w.__exit__(None, None, None)
    return sentences


def time_loader(sentences, sources, args) -> float:
    dataset = SignDataset(sentences, sources, TaskBuilder(sentences, seed=0))
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size,
        shuffle=True,
        num_workers=args.workers,
        collate_fn=SignCollator(),
        persistent_workers=args.workers > 0,
    )
    next(iter(loader))  # start the workers before timing
    start, n = time.perf_counter(), 0
    for _ in range(args.epochs):
        for batch in loader:
            n += len(batch["sentences"])
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="an existing synthsign folder (default: generate one)")
    parser.add_argument("--size", default="small", help="synthsign size preset when generating")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each variant (best is kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = args.data
        if data is None:
            data = tmp / "synthsign"
            generate(data, SynthConfig(size=args.size, seed=0, documents=False, progress=False))
        sentences = prepare(data, tmp)
        frames = sum(FeatureStore.open(tmp / "store", "pose").frames(s.sentence_name) for s in sentences)
        print(
            f"{len(sentences)} clips, {frames} frames, streams {DIMS}, batch {args.batch_size}, "
            f"{args.workers} workers, {args.epochs} epochs, best of {args.rounds}"
        )
        store = {s: FeatureSource(FeatureStore.open(tmp / "store", s)) for s in DIMS}
        npy = {s: FeatureSource(NpyClips(tmp / "npy", s)) for s in DIMS}
        # alternate the two, best of each: the machine is noisy and the first run warms caches
        ours, naive = 0.0, 0.0
        for _ in range(args.rounds):
            naive = max(naive, time_loader(sentences, npy, args))
            ours = max(ours, time_loader(sentences, store, args))
    print(f"feature store      {ours:10.1f} samples/s")
    print(f"one .npy per clip  {naive:10.1f} samples/s")
    print(f"ratio store / npy: {ours / naive:.2f}x")


if __name__ == "__main__":
    main()
