"""Does Sign2Vec pretraining learn sign representations? A sign-retrieval probe on synthsign.

Generates synthsign (``small`` by default), pretrains Sign2Vec for a few hundred steps on the train
split's poses through the shared trainer, and compares its context-network features with those of
the same network randomly initialized (with the same input statistics), and with the 255-value pose
view itself, raw and centred per clip: each gloss occurrence of the val and test splits, mean-pooled over its
``sign_frames``, queries the occurrences of other documents (other signers) by cosine similarity;
top-1 is the share whose nearest neighbour is the same gloss. Prints all three and the ratio
pretrained / random.

    python benchmarks/sign2vec_probe.py [--synth small] [--size tiny] [--steps 300] [--threads 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import torch
import yaml

from pose.features import sign2vec_view_255
from pose.io import read_pose
from pose.synth import SynthConfig, generate, load_metadata
from pretrain.build import PretrainConfig, load_objective
from pretrain.data import PretrainData
from pretrain.optim import OptimConfig
from pretrain.sign2vec import Sign2Vec, Sign2VecConfig
from pretrain.stats import sign_retrieval
from pretrain.trainer import pretrain


def features_of(encode, records, poses: Path) -> dict[str, np.ndarray]:
    return {r.sentence_name: encode(read_pose(poses / f"{r.sentence_name}.pose")) for r in records}


def raw_view(pose) -> np.ndarray:
    return sign2vec_view_255(pose)[0]


def centred_view(pose) -> np.ndarray:
    view = torch.from_numpy(sign2vec_view_255(pose)[0])[None]  # (1, T, 255)
    from pretrain.sign2vec import center_window

    return center_window(view, torch.ones(view.shape[:2], dtype=torch.bool))[0].numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synth", default="small", help="synthsign size preset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="tiny", help="Sign2Vec size preset")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-frames", type=int, default=125)
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="Sign2Vec config overrides")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--work", type=Path, default=None, help="folder for data and the run (default: a temp dir)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        synth = work / f"synthsign-{args.synth}-{args.seed}"
        if not (synth / "synthsign_train.jsonl").is_file():
            generate(
                synth, SynthConfig(size=args.synth, seed=args.seed, documents=False, progress=False, overwrite=True)
            )
        poses = synth / "poses"
        train = work / "train-poses"  # pretraining sees the train split only
        train.mkdir(parents=True, exist_ok=True)
        for r in load_metadata(synth, "train"):
            link = train / f"{r.sentence_name}.pose"
            if not link.exists():
                link.symlink_to((poses / link.name).resolve())
        probe = load_metadata(synth, "val") + load_metadata(synth, "test")

        model = {"size": args.size, "max_frames": args.max_frames}
        model |= {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.set)}
        cfg = PretrainConfig(
            objective="sign2vec",
            model=model,
            data=PretrainData(poses=str(train)),
            optim=OptimConfig(lr=args.lr, max_steps=args.steps, batch_size=args.batch_size, warmup_ratio=0.1),
            output_dir=str(work / f"run-{zlib.crc32(repr((model, args)).encode()):08x}"),  # a new run per setting
            seed=args.seed,
            device="cpu",
            log_every=max(1, args.steps // 10),
            save_every=args.steps,
        )
        started = time.perf_counter()
        result = pretrain(cfg, progress=False)
        seconds = time.perf_counter() - started
        trained, _ = load_objective(Path(cfg.output_dir) / "last")
        torch.manual_seed(args.seed + 1)
        untrained = Sign2Vec(Sign2VecConfig(**model)).eval()
        # the same input statistics (data, not learning): the two differ only in their learned weights
        untrained.input_norm.load_state_dict(trained.input_norm.state_dict())

        scores = {}
        for name, encode in (
            ("pretrained", trained.features),
            ("random init", untrained.features),
            ("raw view", raw_view),
            ("centred view", centred_view),
        ):
            scores[name] = sign_retrieval(features_of(encode, probe, poses), probe)
    run = f"Sign2Vec {args.size}, {result['steps']} steps in {seconds:.0f} s, final loss {result['loss']:.3f}"
    print(f"synthsign {args.synth} (seed {args.seed}): {run} {model}")
    for name, (top1, queries) in scores.items():
        print(f"  {name:12s} same sign, other signer, top-1: {top1:.1%} ({queries} queries)")
    ratio = scores["pretrained"][0] / max(scores["random init"][0], 1e-9)
    print(f"  pretrained / random init: {ratio:.2f}x")


if __name__ == "__main__":
    main()
