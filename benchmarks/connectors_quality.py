"""The quality half of ``benchmarks/connectors.py`` (``quality``): every variant trained with one recipe,
then scored on held-out synthsign sentences and on long passages.

The recipe is the default model's stage 1 (signllava/recipes/default.yaml) but for the connector: the
pose stream (``mlp2x_gelu``, ``out_norm: rms``, two temporal blocks), tasks translate 1 / sign_present
0.15 / reversed 0.1, context prelude 1 + preceding 1, the gloss CTC loss on the projected frames
(``--ctc``, 0.5 as the recipe's later runs), the same steps, batch, learning rate and seed for every
variant, each from scratch. Sentences: ``signllava.evaluate`` on the test split with the model's own
outputs as context (BLEU-4, exact matches, the ambiguous words; the reference answers' loss per token
with the reference context, and the gloss head's WER, which move where a young model's BLEU does not
yet). Passages: the consecutive sentences of each held-out document from its first, joined until they
span at least 15 / 30 / 60 / 120 s, cut from the document's full pose (``poses_full/``) and translated
as one segment (greedy unless ``--beam``; the new-token budget is the reference's length plus 20),
scored with BLEU-4 and exact matches; documents shorter than a length are left out of it (synthsign's
default documents hold 3-8 sentences: ``--passages-data`` names a set generated with longer ones).
With ``--train-seconds S`` the runs train (and the sentence scores become) passages of at least S seconds
joined from ``--data``'s documents (``signllava.data.passages``, as ``signllava data passages``), so a
connector is compared on the long inputs it was trained for.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from connector_variants import model_config  # benchmarks/ is on sys.path when a script there runs
from filelock import FileLock

from pose.io import atomic_output, read_pose
from signllava.data.how2sign import write_manifest
from signllava.data.passages import join_passages
from signllava.data.poses import view_for
from signllava.data.streams import DataConfig, StreamInput, load_sentences
from signllava.data.tasks import ContextWindow, Task, TaskWeights
from signllava.evaluate import EvalConfig, evaluate
from signllava.metrics import translation_metrics
from signllava.model.build import TrainConfig, TrainOptim, load_trained
from signllava.train import train


def add_arguments(q: argparse.ArgumentParser) -> None:
    q.add_argument("--data", type=Path, default=None, help="a synthsign folder (metadata, poses/, poses_full/)")
    q.add_argument("--passages-data", type=Path, default=None, help="the synthsign folder of the passages")
    q.add_argument("--work", type=Path, default=Path("out/connectors"))
    q.add_argument("--steps", type=int, default=400)
    q.add_argument("--batch", type=int, default=8)
    q.add_argument("--lr", type=float, default=2e-3)
    q.add_argument("--ctc", type=float, default=0.5, help="gloss CTC loss weight (the default recipe's; 0: off)")
    q.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    q.add_argument("--beam", type=int, default=1)
    q.add_argument("--limit", type=int, default=0, help="held-out sentences scored (0: all)")
    q.add_argument("--passage-seconds", type=lambda s: [float(x) for x in s.split(",")], default=[15, 30, 60, 120])
    q.add_argument("--max-passages", type=int, default=10, help="passages per length")
    q.add_argument(
        "--train-seconds",
        type=float,
        default=0,
        help="train and score on passages of at least this long joined from --data's documents (its poses_full/)"
        " instead of single sentences (0); give these runs their own --work",
    )
    q.add_argument("--train-device", default=None, help="default: --device")
    q.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    q.add_argument("--plot", default=None, help="draw every variant's training curves (LM and CTC loss) here")
    q.add_argument("--report", action="store_true", help="print and plot what --work holds (trains nothing)")


def run_folder(work: Path, variant: str) -> Path:
    """Where ``variant`` trains: "mlp/4" in ``work/mlp-4``, beside (not inside) ``work/mlp``."""
    return work / variant.replace("/", "-")


def training_data(args) -> tuple[list[str], Path]:
    """The metadata and pose folder of the runs: --data's sentences, or with --train-seconds its
    documents' passages (a manifest beside the runs) cut from the full poses."""
    metadata = [str(args.data / f"how2sign_realigned_{split}.csv") for split in ("train", "val", "test")]
    if not args.train_seconds:
        return metadata, args.data / "poses"
    if not (args.data / "poses_full").is_dir():
        raise SystemExit(f"{args.data}: no poses_full/ (generate it with documents) to train on passages")
    sentences = [s for split in ("train", "val", "test") for s in load_sentences(DataConfig(metadata), split)]
    manifest = args.work / f"passages-{args.train_seconds:g}s.tsv"
    args.work.mkdir(parents=True, exist_ok=True)
    write_manifest(join_passages(sentences, args.train_seconds).passages, manifest)  # atomic: the same for all
    return [str(manifest)], args.data / "poses_full"


def train_config(args, variant: str) -> TrainConfig:
    metadata, poses = training_data(args)
    data = DataConfig(
        metadata=metadata,
        streams={"pose": StreamInput(poses=str(poses))},
        tasks=TaskWeights(translate=1.0, sign_present=0.15, signs_present=0.0, reversed=0.1),
        context=ContextWindow(1, 1),
        num_workers=args.workers,
    )
    model = model_config(variant, {"pose": 208}, args.llm, {"out_norm": "rms", "temporal": 2}, max_length=8192)
    return TrainConfig(
        model=model,
        data=data,
        optim=TrainOptim(max_steps=args.steps, batch_size=args.batch, lr=args.lr),
        ctc=args.ctc,
        output_dir=str(run_folder(args.work, variant)),
        seed=args.seed,
        device=args.train_device or args.device,
        log_every=10,
        save_every=100,
    )


def passages(folder: Path, seconds: float, limit: int) -> list[tuple[str, float, float, str]]:
    """``(video name, start, end, reference)`` of the held-out documents' first sentences spanning ``seconds``."""
    data = DataConfig(metadata=[str(folder / "how2sign_realigned_test.csv")], streams={})
    first = [
        p for p in join_passages(load_sentences(data, "test"), seconds).passages if p.sentence_name.endswith("000")
    ]
    return [(p.video_name, p.start, p.end, p.text) for p in first[:limit]]


def score_passages(model, folder: Path, args) -> dict:
    view = view_for(208)
    scores = {}
    for seconds in args.passage_seconds:
        chosen = passages(folder, seconds, args.max_passages)
        if not chosen:
            scores[f"{seconds:g}s"] = None
            continue
        hyps = []
        for name, start, end, reference in chosen:
            pose = read_pose(folder / "poses_full" / f"{name}.pose")
            fps = float(pose.body.fps)
            frames = torch.from_numpy(np.ascontiguousarray(view(pose)[0][round(start * fps) : round(end * fps)]))
            budget = len(model.tokenizer(reference)["input_ids"]) + 20
            task = Task(f"{name}@{start:g}", "translate", reference)
            mask = torch.ones(1, len(frames), dtype=torch.bool)
            hyps += model.generate([task], {"pose": frames[None]}, {"pose": mask}, budget, args.beam)
        metrics = translation_metrics(hyps, [c[3] for c in chosen])
        # the first passage's output is kept: a BLEU-4 near 0 alone cannot tell one sentence from a loop
        scores[f"{seconds:g}s"] = {
            "n": len(chosen),
            "bleu4": metrics["bleu4"],
            "exact": metrics["exact"],
            "example": {"reference": chosen[0][3], "hypothesis": hyps[0]},
        }
    return scores


def plot_curves(work: Path, variants: list[str], path: Path) -> None:
    """The LM and gloss-CTC training losses of each variant's run under ``work``, one line per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for variant in variants:
        rows = [json.loads(line) for line in (run_folder(work, variant) / "metrics.jsonl").read_text().splitlines()]
        for ax, key in zip(axes, ("lm", "ctc"), strict=True):
            ax.plot([r["step"] for r in rows if key in r], [r[key] for r in rows if key in r], label=variant)
    for ax, title in zip(axes, ("LM loss (answer tokens)", "gloss CTC loss"), strict=True):
        ax.set_xlabel("step")
        ax.set_yscale("log")  # the first steps' CTC loss is several times the rest
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def quality(args) -> None:
    if not args.report:
        if args.data is None:
            raise SystemExit("connectors.py quality: --data is needed (or --report)")
        measure(args)
    path = args.work / "quality.json"
    if not path.exists():
        raise SystemExit(f"{path}: no variant has finished")
    summary = json.loads(path.read_text())["summary"]
    if args.plot:
        plot_curves(args.work, list(summary), Path(args.plot))
        print(f"plot: {args.plot}")
    print_table(summary, [f"{s:g}s" for s in args.passage_seconds])


def measure(args) -> None:
    """Train (or resume) and score each of ``args.variants``; their figures are merged into quality.json."""
    if args.threads:
        torch.set_num_threads(args.threads)
    for variant in args.variants:
        cfg = train_config(args, variant)
        result = train(cfg, progress=False)  # resumes; a finished run does nothing
        checkpoint = Path(cfg.output_dir) / "last"
        report = evaluate(
            EvalConfig(
                checkpoint=str(checkpoint),
                split="test",
                context="own",
                qa=[],
                num_beams=args.beam,
                limit=args.limit,
                # a passage's translation is many sentences long (synthsign signs ~2 tokens a second)
                max_new_tokens=max(100, round(6 * args.train_seconds)),
                device=args.device,
                output=str(run_folder(args.work, variant)) + "-test.json",
            ),
            progress=False,
        )
        model, _ = load_trained(checkpoint, args.device)
        with torch.no_grad():
            long = score_passages(model, args.passages_data or args.data, args)
        figures = {
            "loss": result["loss"],
            "samples_per_s": result["samples_per_s"],
            "bleu4": report["translation"]["bleu4"],
            "exact": report["translation"]["exact"],
            "sentences": report["sentences"],
            "ambiguous": (report["ambiguous"] or {}).get("accuracy"),
            "held_out_nats": report["translation_loss"]["nats_per_token"],
            "other_clip_nats": report["translation_loss"]["other_clip_nats_per_token"],
            "gloss_wer": (report["recognition"].get("pose") or {}).get("wer"),
            "passages": long,
        }
        print(variant, json.dumps(figures), flush=True)
        save(args.work / "quality.json", variant, figures, args)


def save(path: Path, variant: str, figures: dict, args) -> None:
    """Record one variant's figures as soon as it is scored; the other variants' in the file stay.
    Variants may run as separate processes on one --work, so the read-merge-write holds a lock."""
    with FileLock(path.with_suffix(".lock")):
        saved = json.loads(path.read_text()) if path.exists() else {"runs": {}, "summary": {}}
        saved["summary"][variant] = figures
        saved["runs"][variant] = vars(args)
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(saved, indent=1, default=str))


def print_table(summary: dict, lengths: list[str]) -> None:
    head = f"{'variant':>10} {'loss':>6} {'held-out':>8} {'other clip':>10} {'gloss WER':>9} {'BLEU-4':>7} "
    head += f"{'exact':>9} {'ambig %':>8}  "
    print("\n" + head + "  ".join(lengths))
    for variant, s in summary.items():
        long = "  ".join(f"{s['passages'][k]['bleu4']:.1f}" if s["passages"][k] else "-" for k in lengths)
        ambiguous = f"{s['ambiguous']:.1f}" if s["ambiguous"] is not None else "-"
        exact = f"{s['exact']}/{s['sentences']}"
        nats, other, wer = (
            f"{s[k]:.3f}" if s.get(k) is not None else "-" for k in ("held_out_nats", "other_clip_nats", "gloss_wer")
        )
        cells = f"{variant:>10} {s['loss']:>6.3f} {nats:>8} {other:>10} {wer:>9} {s['bleu4']:>7.2f} {exact:>9} "
        cells += f"{ambiguous:>8}"
        print(f"{cells}  {long}")
