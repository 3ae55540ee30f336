"""Real-data sanity: SignLLaVA fits the real How2Sign training clips through the pose stream alone.

The proof that real features reach the LLM (the model issue's target: train BLEU-4 >= 90 on the 30
real clips in ../shared/realdata/how2sign). The clips' poses are extracted once (25 fps, into
``--work``); the embedded default model's projector design (208-value pose view, ``mlp2x_gelu``,
mean pooling, stride 4, two temporal blocks, RMS output norm) with LoRA on the frozen SmolLM2-135M
trains on them, translation only, no context; every ``--eval-every`` steps the training sentences
are decoded (greedy) and scored with sacreBLEU. Prints the curve (step, loss, BLEU-4, chrF, exact)
and draws it to ``WORK/curve.png``; reruns resume the training where it stopped.

    python benchmarks/realdata_fit.py [--steps 300] [--eval-every 50] [--work out/realdata-fit]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def extract(clips: Path, poses: Path) -> None:
    from pose.batch import run_batch
    from pose.config import ExtractConfig, VideoConfig
    from pose.config_loader import save_config

    cfg = ExtractConfig(workers=0, video=VideoConfig(target_fps=25))
    poses.mkdir(parents=True, exist_ok=True)
    save_config(cfg, poses / "extract_poses.yaml")  # as `signllava extract-poses` records its settings
    report = run_batch([clips], poses, cfg, progress=True)  # skips the clips already extracted
    print(report.summary())
    if report.failed:
        raise SystemExit(f"pose extraction failed for {len(report.failed)} clips")


def train_config(metadata: Path, poses: Path, run: Path, args):
    from signllava.data.streams import DataConfig, StreamInput
    from signllava.data.tasks import TaskWeights
    from signllava.model.build import LoraSettings, TrainConfig, TrainOptim
    from signllava.model.llm import DEFAULT_LLM
    from signllava.model.model import ModelConfig, StreamConfig

    pose = StreamConfig(208, "mlp2x_gelu", pool="mean", stride=4, out_norm="rms", temporal=2)
    return TrainConfig(
        model=ModelConfig(llm=DEFAULT_LLM, streams={"pose": pose}),
        data=DataConfig(
            metadata=[str(metadata)],
            streams={"pose": StreamInput(poses=str(poses))},
            tasks=TaskWeights(translate=1, sign_present=0, signs_present=0, reversed=0),
            use_context=False,
        ),
        optim=TrainOptim(lr=args.lr, max_steps=args.steps, batch_size=args.batch, warmup_ratio=0.05),
        lora=LoraSettings(enabled=True, r=16, alpha=32, dropout=0.0, target_modules=["q_proj", "v_proj"]),
        output_dir=str(run),
        device="cpu",
        seed=args.seed,
        log_every=10,
        save_every=args.eval_every,
    )


def score(run: Path, step: int) -> dict:
    from signllava.evaluate import EvalConfig, evaluate

    out = run / f"eval-train-step{step}.json"
    if not out.is_file():
        cfg = EvalConfig(
            checkpoint=str(run / "last"), split="train", context="none", qa=[], num_beams=1, output=str(out)
        )
        evaluate(cfg, progress=False)
    return json.loads(out.read_text())["translation"]


def draw(curve: list[dict], losses: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, loss_ax = plt.subplots(figsize=(7, 4))
    loss_ax.plot([m["step"] for m in losses], [m["loss"] for m in losses], color="tab:gray", label="training loss")
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("loss")
    bleu_ax = loss_ax.twinx()
    bleu_ax.plot([c["step"] for c in curve], [c["bleu4"] for c in curve], "o-", color="tab:blue", label="train BLEU-4")
    bleu_ax.axhline(90, color="tab:blue", linestyle=":", linewidth=1)
    bleu_ax.set_ylim(0, 100)
    bleu_ax.set_ylabel("train BLEU-4 (greedy)")
    lines = loss_ax.get_lines()[:1] + bleu_ax.get_lines()[:1]
    bleu_ax.legend(lines, [line.get_label() for line in lines], loc="center right")
    fig.suptitle("SignLLaVA on the 30 real How2Sign clips (pose stream)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata" / "how2sign")
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "realdata-fit")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--batch", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from signllava.train import train

    metadata = args.realdata / "how2sign_train_subset.tsv"
    if not metadata.is_file():
        raise SystemExit(f"{metadata}: not found (the real How2Sign clips live in ../shared/realdata)")
    poses, run = args.work / "poses", args.work / "run"
    extract(args.realdata / "clips", poses)
    cfg = train_config(metadata, poses, run, args)
    curve = []
    for stop in range(args.eval_every, args.steps + 1, args.eval_every):
        train(cfg, progress=True, should_stop=lambda step, stop=stop: step >= stop)
        metrics = score(run, stop)
        losses = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        loss = [m["loss"] for m in losses if m["step"] <= stop][-1]  # a rerun finds the later steps logged too
        curve.append({"step": stop, "loss": loss} | metrics)
        print(
            f"step {stop:4d}  loss {loss:.3f}  train BLEU-4 {metrics['bleu4']:5.1f}  "
            f"chrF {metrics['chrf']:5.1f}  exact {metrics['exact']}",
            flush=True,
        )
        draw(curve, losses, args.work / "curve.png")
    print(f"curve: {args.work / 'curve.png'}; target: train BLEU-4 >= 90")


if __name__ == "__main__":
    main()
