"""The ``signllava`` command line. Each stage is one sub-command; bad input exits with one line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from pose.config import ExtractConfig
from pose.config_loader import load_config, save_config
from pose.errors import InputError, quoted
from pose.io import output_file, output_folder

app = typer.Typer(
    name="signllava",
    help="SignLLaVA: sign language video (ASL, DGS, CSL) -> poses and sign features -> a frozen LLM -> text.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # click's plain help: defaults shown, no type label on flags, and no box drawing in a log file
    rich_markup_mode=None,
)


data_app = typer.Typer(
    help="Datasets: check any supported dataset's files (data list), manifests, passages, synthetic signing data.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


# Options several commands share, declared once.
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Overrides = Annotated[list[str], typer.Option("--set", help="Config override key=value (repeatable).")]
LlmOverride = Annotated[str | None, typer.Option(help="Load the checkpoint's LLM from this id or folder instead.")]
Encoders = Annotated[
    list[str],
    typer.Option(
        help="NAME=DIR: the pretraining checkpoint of an encoder stream (sign2vec, dino, mae) it reads "
        "(a folder, an export or a Hugging Face repo id)."
    ),
]
Device = Annotated[str, typer.Option(help="auto, cpu or cuda.")]
FramesFps = Annotated[
    float,
    typer.Option(min=0.001, max=1000, help="The frame rate of a video given as a folder of frames (or their glob)."),
]
# translate's model options, which live takes as they are
Checkpoint = Annotated[
    Path | None,
    typer.Option(
        help="Trained checkpoint folder, export or Hugging Face repo id (user/name[@rev]); default: the embedded."
    ),
]
Beam = Annotated[int, typer.Option(min=1, help="Beam size (1 = greedy).")]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Print the signs recognized in each segment and a timing breakdown (live: each segment's latency).",
    ),
]
Context = Annotated[str | None, typer.Option(help="Preceding text as context: the text itself or a text file.")]
SUBMIT_STAGES = (
    "extract-poses",
    "import-keypoints",
    "pretrain-sign2vec",
    "pretrain-dino",
    "pretrain-mae",
    "extract-features",
    "train",
    "evaluate",
)
StageOption = "1: projectors only; 2: + LoRA (lr 2e-5), initialized from --init-from."


@data_app.command("check")
def data_check(
    metadata: list[Path] = typer.Argument(
        ..., help="A dataset's metadata files, any splits (`signllava data list` says which files each wants)."
    ),
    dataset: str = typer.Option("", help="The dataset of every file (default: recognized from each file)."),
    videos: Path | None = typer.Option(
        None, help="Folder of full videos, clips or folders of frames to check against."
    ),
    output: Path = typer.Option(Path("out/how2sign/manifest.tsv"), "--output", "-o", help="Manifest to write."),
    min_duration: float = typer.Option(0.1, min=0, help="Drop sentences shorter than this (seconds; timed metadata)."),
    frames_fps: FramesFps = 25.0,
) -> None:
    """Validate a dataset's metadata, report counts and dropped rows, and write a manifest of usable sentences."""
    import csv

    from pose.io import atomic_output

    from .data.datasets import read_metadata, recognize
    from .data.how2sign import check_metadata, find_media, read_realigned, with_media, write_manifest

    if output.resolve() in {p.resolve() for p in metadata}:
        raise InputError(output, "the manifest would overwrite an input metadata file; give another --output")
    output_file(output)
    how2sign = not dataset and all(recognize(p).name == "how2sign" for p in metadata)
    if how2sign:  # timed metadata: durations checked and clipped as the rows are read
        durations, media = None, None
        if videos is not None:
            sentences = [s for path in metadata for s in read_realigned(path)[0]]
            durations, media = find_media(sentences, videos, frames_fps)
        report = check_metadata(metadata, durations, min_duration)
        report.dataset = "how2sign"
    else:
        report, _ = read_metadata(metadata, dataset)
        media = None
        if videos is not None:
            durations, media = find_media(report.kept, videos, frames_fps)
            report = with_media(report, durations)
    typer.echo((f"dataset: {report.dataset}\n" if report.dataset else "") + report.summary())
    if not report.kept:
        typer.echo("error: no usable sentence is left (see the dropped counts above); no manifest written", err=True)
        raise typer.Exit(1)
    write_manifest(report.kept, output, media, dataset=report.dataset if report.dataset != "how2sign" else "")
    dropped = output.with_name(output.stem + ".dropped.tsv")
    with atomic_output(dropped) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["file", "row", "SENTENCE_NAME", "reason"])
        for d in report.dropped:
            writer.writerow([d.source, d.row, d.sentence_name, d.reason])
    typer.echo(f"manifest: {output} ({len(report.kept)} sentences); dropped rows: {dropped}")


@data_app.command("list")
def data_list() -> None:
    """The datasets SignLLaVA reads: the files each wants, its languages, and what a sentence's context is."""
    from .data.datasets import DATASETS
    from .data.languages import language

    for d in DATASETS.values():
        pair = language(d.language)
        typer.echo(f"{d.name}: {d.title}")
        typer.echo(f"  language: {pair.sign} ({pair.abbreviation}) -> {pair.written} ({d.language})")
        typer.echo(f"  files: {d.files}")
        typer.echo(f"  context: {d.context}")


@data_app.command("passages")
def data_passages(
    metadata: list[Path] = typer.Argument(
        ..., help="Sentence metadata of any dataset (`signllava data list`), any splits."
    ),
    seconds: float = typer.Option(..., min=0.1, help="Each passage spans at least this long (seconds)."),
    output: Path = typer.Option(..., "--output", "-o", help="Manifest of the passages to write (.tsv)."),
) -> None:
    """Join each video's consecutive sentences into passages of at least --seconds, written as a manifest
    to train or evaluate on long inputs (their features are cut from the full videos: data.streams.*.poses
    must hold <VIDEO_NAME>.pose, or a per-video feature store)."""
    from .data.how2sign import by_video, write_manifest
    from .data.passages import join_passages
    from .data.streams import DataConfig, load_sentences

    if output.resolve() in {p.resolve() for p in metadata}:
        raise InputError(output, "the manifest would overwrite an input metadata file; give another --output")
    output_file(output)
    data = DataConfig(metadata=[str(p) for p in metadata])
    sentences = [s for split in ("train", "val", "test") for s in load_sentences(data, split)]
    if not sentences:
        raise InputError(metadata[0], "no sentence of a train, val or test split here")
    joined = join_passages(sentences, seconds)
    if not joined.passages:
        longest = max(v[-1].end - v[0].start for v in by_video(sentences).values())
        raise InputError(
            None, f"--seconds {seconds:g}: no video's sentences span that long (the longest {longest:.1f} s)"
        )
    write_manifest(joined.passages, output)
    typer.echo(f"{output}: {joined.summary(seconds)}")


@data_app.command("synth")
def data_synth(
    output: Path = typer.Option(Path("out/synthsign"), "--output", "-o", help="Folder to create."),
    size: str = typer.Option("tiny", help="Preset: tiny (~50 sentences), small (~420), medium (~2,200), large."),
    seed: int = typer.Option(0, help="Everything derives from it: same seed, same data."),
    render: bool = typer.Option(False, "--render/--no-render", help="Also draw each sentence as an .mp4."),
    documents: bool = typer.Option(True, "--documents/--no-documents", help="Also write full-document poses."),
    workers: int = typer.Option(1, "--workers", "-w", help="Worker processes (0 = one per core)."),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder."),
    set_: list[str] = typer.Option([], "--set", help="Any SynthConfig field key=value (repeatable)."),
    quiet: Quiet = False,
) -> None:
    """Generate synthsign: synthetic signing documents in How2Sign's layout (poses, metadata, videos)."""
    from pose.synth import SynthConfig, generate

    flags = [
        f"size={size}",
        f"seed={seed}",
        f"render={render}",
        f"documents={documents}",
        f"workers={workers}",
        f"overwrite={overwrite}",
        f"progress={not quiet}",
    ]
    summary = generate(output, load_config(SynthConfig, None, [*flags, *set_]))
    typer.echo(summary.summary())


features_app = typer.Typer(
    help="Feature stores: inspect them, bring features from the original JSALT layout.", no_args_is_help=True
)
app.add_typer(features_app, name="features")


@features_app.command("describe")
def features_describe(root: Path = typer.Argument(..., help="Feature store root.")) -> None:
    """Clips, frames, dim, shards and size of every stream in a feature store."""
    from pretrain import format_summary, summarize

    if not root.is_dir():
        raise InputError(root, "feature store not found")
    summaries = summarize(root)
    if not summaries:
        raise InputError(root, "no feature streams here (a store root holds one folder per stream)")
    typer.echo(format_summary(summaries))


@features_app.command("import-jsalt")
def features_import_jsalt(
    source: Path = typer.Argument(
        ...,
        help="One .h5 shard (the shards beside it are found: no index needed) or the .json index of video -> shard.",
    ),
    root: Path = typer.Argument(..., help="Destination feature store root."),
    stream: str = typer.Option(..., help="Stream name to store them as (pose, sign2vec, dino, mae, ...)."),
) -> None:
    """Copy features stored in the original JSALT 2024 HDF5 layout into a feature store (resumable).

    Clips are stored as video/clip, the names that sentences read from the original's annotation JSON have.
    """
    from pretrain import import_jsalt

    typer.echo(f"imported {import_jsalt(source, root, stream)} clips into {root}/{stream}")


_EXTRACT = ExtractConfig()


@app.command("extract-poses")
def extract_poses(
    inputs: list[Path] = typer.Argument(
        ..., help="Videos, folders of frames (or their glob), folders of either, or manifests (.txt/.tsv/.csv)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for the .pose files (mirrors input folders)."),
    # None: the --config file's value, else the config default (shown, since typer cannot show it)
    workers: int | None = typer.Option(
        None, "--workers", "-w", help=f"Worker processes (0 = one per core).  [default: {_EXTRACT.workers}]"
    ),
    shard: int | None = typer.Option(
        None, help=f"This job's shard index (SLURM array task).  [default: {_EXTRACT.shard}]"
    ),
    num_shards: int | None = typer.Option(
        None, help=f"Number of shards the video list is split into.  [default: {_EXTRACT.num_shards}]"
    ),
    fps: float | None = typer.Option(None, help="Resample to this frame rate (e.g. 25).  [default: the source's]"),
    frames_fps: float | None = typer.Option(
        None, help=f"The frame rate of a video given as a folder of frames.  [default: {_EXTRACT.video.frames_fps:g}]"
    ),
    model_complexity: int | None = typer.Option(
        None, help=f"MediaPipe pose model: 0, 1 or 2.  [default: {_EXTRACT.holistic.model_complexity}]"
    ),
    refine_face: bool | None = typer.Option(
        None,
        "--refine-face/--no-refine-face",
        help=f"Add iris points.  [default: {'--refine-face' if _EXTRACT.holistic.refine_face_landmarks else 'off'}]",
    ),
    backend: str | None = typer.Option(
        None, help=f"Video decoder: auto, decord, pyav or opencv.  [default: {_EXTRACT.video.backend}]"
    ),
    pose_backend: str | None = typer.Option(
        None,
        help="MediaPipe graph: legacy (mediapipe 0.10.21's Holistic) or tasks (the Tasks HolisticLandmarker)."
        f"  [default here: {_EXTRACT.holistic.backend}]",
    ),
    overwrite: bool = typer.Option(False, help="Re-extract videos whose .pose already exists."),
    config: Path | None = typer.Option(None, help="YAML config (see `signllava show-config extract-poses`)."),
    set_: Overrides = (),
    quiet: Quiet = False,
) -> None:
    """Extract MediaPipe Holistic poses from videos into pose-format .pose files (resumable)."""
    from pose.batch import run_batch, write_failures

    flags = {
        "workers": workers,
        "shard": shard,
        "num_shards": num_shards,
        "video.target_fps": fps,
        "video.frames_fps": frames_fps,
        "holistic.model_complexity": model_complexity,
        "holistic.refine_face_landmarks": refine_face,
        "video.backend": backend,
        "holistic.backend": pose_backend,
        "overwrite": overwrite or None,
    }
    overrides = [*set_, *(f"{k}={v}" for k, v in flags.items() if v is not None)]
    cfg = load_config(ExtractConfig, config, overrides)
    tag = f".shard{cfg.shard}of{cfg.num_shards}" if cfg.num_shards > 1 else ""

    def save(jobs) -> None:  # once the inputs are known good, so a bad call writes nothing
        save_config(cfg, output / f"extract_poses{tag}.yaml")

    report = run_batch(_videos(inputs), output, cfg, progress=not quiet, on_start=save)
    typer.echo(report.summary())
    if report.failed:
        failures = output / f"extract_poses{tag}.failures.tsv"
        write_failures(report, failures)
        typer.echo(f"failures listed in {failures}", err=True)
        raise typer.Exit(1)


@app.command("visualize-pose")
def visualize_pose(
    pose_file: Path = typer.Argument(..., help="A .pose file."),
    output: Path = typer.Option(..., "--output", "-o", help="Output .mp4 (all frames) or .png/.jpg (a sheet)."),
    video: Path | None = typer.Option(None, "--video", help="Draw over this video (else white)."),
    frames: int = typer.Option(6, min=1, help="Frames on an image's contact sheet."),
    frame: int | None = typer.Option(None, min=0, help="Draw only this frame index (images only)."),
) -> None:
    """Draw a .pose skeleton over its video, to look at what was extracted."""
    from pose.visualize import draw_pose

    typer.echo(f"wrote {draw_pose(pose_file, output, video, frames=frames, frame_index=frame)}")


@app.command("import-keypoints")
def import_keypoints_command(
    inputs: list[Path] = typer.Argument(
        ..., help="The original SignLLaVA's keypoint .json files, folders of them (searched below) or lists (.txt)."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Folder for the .pose files: <video>/<video>.<start>-<end>.pose per clip."
    ),
    fps: float | None = typer.Option(
        None,
        min=0.001,
        max=1000,
        help="The clips' frame rate (the JSON has none).  [default: the file's name <clip>.25fps.json, "
        "else a folder above it named <name>_25fps]",
    ),
    size: str | None = typer.Option(
        None, help="WIDTHxHEIGHT of the videos in pixels.  [default: the extent of the points]"
    ),
    overwrite: bool = typer.Option(False, help="Re-import files whose .pose already exists."),
    quiet: Quiet = False,
) -> None:
    """Import the original SignLLaVA's MediaPipe keypoint JSON (its YouTube-ASL pipeline) as .pose files
    (resumable); its annotation JSON's sentences then train from them (data.streams.pose.poses=OUT)."""
    from pose.batch import write_failures
    from pose.keypoints_batch import import_keypoints
    from pose.keypoints_json import SUFFIX, parse_size

    dims = parse_size(size) if size is not None else None
    # one file alone is read before anything is written, and its error is the call's (as translate VIDEO's)
    alone = len(inputs) == 1 and inputs[0].is_file() and inputs[0].suffix.lower() == SUFFIX
    report = import_keypoints(inputs, output, fps, dims, overwrite, progress=_show_progress(quiet), strict=alone)
    typer.echo(report.summary())
    failures = output / "import_keypoints.failures.tsv"
    if not report.failed:
        failures.unlink(missing_ok=True)  # a list of an earlier run: its files are done now
        return
    write_failures(report, failures)
    typer.echo(f"failures listed in {failures}", err=True)
    raise typer.Exit(1)


@app.command("demo")
def demo(
    output: Path = typer.Option(Path("out/demo"), "--output", "-o", help="Folder for the demo's files."),
    document: int = typer.Option(0, help="Which held-out synthsign test document to translate (0-39)."),
    quiet: Quiet = False,
) -> None:
    """Offline, no data needed: the default model translates a generated sample, and the pose stage runs on a video."""
    from .demo import check_document, run_demo, run_translation_demo

    check_document(document)
    output_folder(output)
    typer.echo("1. Translation with the embedded default model. It knows only synthsign, the project's synthetic")
    typer.echo("   signing language (signllava/recipes/default.yaml trained it), not ASL. The sample is a")
    typer.echo("   synthsign test document: sentences never seen in training, generated here as .pose files.")
    t = run_translation_demo(output, document=document, progress=not quiet)
    for line in t.lines:
        mark = "ok" if line.exact else "differs"
        typer.echo(f"   [{line.start:5.1f}-{line.end:5.1f} s] {line.hypothesis}")
        typer.echo(f"   {'':16}reference: {line.reference}  ({mark})")
        if line.recognized is not None:
            read, signed = " ".join(line.recognized) or "(none)", " ".join(line.signed)
            typer.echo(f"   {'':16}signs read: {read}  (signed: {signed})")
    right = sum(line.exact for line in t.lines)
    typer.echo(f"   {right} of {len(t.lines)} sentences translated exactly ({t.timings})")
    typer.echo(f"   clips: {t.poses}/; the document's skeleton: {t.picture}")
    typer.echo(f"   one clip by hand: signllava translate {t.poses}/<SENTENCE_NAME>.pose")
    typer.echo("2. The pose stage (MediaPipe Holistic) on a generated video:")
    result = run_demo(output, progress=not quiet)
    typer.echo(f"   sample video : {result.video}")
    typer.echo(f"   poses        : {result.pose} ({result.frames} frames, pose-format .pose)")
    typer.echo("   found in     : " + ", ".join(f"{k} {v:.0%} of frames" for k, v in result.found.items()))
    typer.echo(f"   pose features: {result.feature_shape[0]} x {result.feature_shape[1]} (frames x values)")
    typer.echo(f"   picture      : {result.picture} (skeleton drawn over the video)")


@app.command("pretrain")
def pretrain_command(
    objective: str = typer.Argument(..., help="sign2vec, dino or mae."),
    config: Path | None = typer.Option(None, help="YAML config (see `signllava show-config pretrain`)."),
    set_: Overrides = (),
    quiet: Quiet = False,
) -> None:
    """Pretrain a self-supervised sign encoder (Sign2Vec on poses, DINO on face/hand crops, MAE on the signer)."""
    from pretrain.build import PretrainConfig
    from pretrain.trainer import pretrain

    cfg = load_config(PretrainConfig, config, [f"objective={objective}", *set_])
    summary = pretrain(cfg, progress=not quiet)
    typer.echo(
        f"pretrained {objective} {summary['steps']} steps, last loss {summary['loss']:.4f}; "
        f"checkpoint {summary['output_dir']}/last, curve {summary['output_dir']}/loss.png"
    )


@app.command("extract-features")
def extract_features_command(
    stream: str = typer.Option(..., help="pose (the 208-value view) or an encoder: sign2vec, dino, mae."),
    poses: Path = typer.Option(..., help="Folder of the clips' .pose files."),
    output: Path = typer.Option(..., "--output", "-o", help="Feature store root."),
    checkpoint: Path | None = typer.Option(None, help="The encoder's pretraining checkpoint (RUN/last)."),
    videos: Path | None = typer.Option(None, help="Folder of the clips' videos (dino, mae)."),
    shard: int = typer.Option(0, help="This job's shard index (SLURM array task)."),
    num_shards: int = typer.Option(1, help="Number of shards the clips are split into."),
    synth: Path | None = typer.Option(None, help="A synthsign folder: also run the sign retrieval probe."),
    set_: Overrides = (),
    quiet: Quiet = False,
) -> None:
    """Per-frame features of every clip into the feature store (resumable), then the collapse checks."""
    from pretrain.extract import ExtractFeaturesConfig, extract_features

    flags = {
        "stream": stream,
        "checkpoint": checkpoint,
        "data.poses": poses,
        "data.videos": videos,
        "output": output,
        "shard": shard,
        "num_shards": num_shards,
        "synth": synth,
    }
    job = load_config(ExtractFeaturesConfig, None, [*(f"{k}={v}" for k, v in flags.items() if v is not None), *set_])
    typer.echo(extract_features(job, progress=not quiet).summary())


@app.command("train")
def train_command(
    config: Path | None = typer.Option(None, help="YAML training config (see `signllava show-config train`)."),
    set_: Overrides = (),
    stage: int = typer.Option(1, help=StageOption),
    init_from: Path | None = typer.Option(None, help="Checkpoint folder to start from (stage 2: the stage-1 one)."),
    stop_after: int | None = typer.Option(
        None, help="Save and stop once this step is done (a rerun resumes; the schedule still spans max_steps)."
    ),
    quiet: Quiet = False,
) -> None:
    """Train SignLLaVA's projectors (stage 1) or projectors + LoRA (stage 2); reruns resume from last/."""
    from .cluster.stages import STAGES
    from .train import train

    preset = [f"init_from={init_from}"] if init_from else []
    cfg = STAGES["train"].config(config, [*preset, *set_], variant=str(stage))
    stop = None if stop_after is None else (lambda step: step >= stop_after)
    summary = train(cfg, progress=not quiet, should_stop=stop)
    typer.echo(
        f"trained {summary['steps']} steps, last loss {summary['loss']:.4f}, "
        f"{summary['tokens_per_s']:.0f} tokens/s; checkpoint {summary['output_dir']}/last, "
        f"curve {summary['output_dir']}/loss.png"
    )


@app.command("evaluate")
def evaluate_command(
    checkpoint: Path = typer.Argument(..., help="Checkpoint folder (e.g. runs/stage1/last), export or repo id."),
    split: str = typer.Option("test", help="Split to evaluate."),
    context: str = typer.Option("gold", help="Context: gold, none, own (the model's outputs), or a hypotheses file."),
    beam: int = typer.Option(5, min=1, help="Beam size (1 = greedy)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="JSON report (default beside the checkpoint)."),
    set_: Overrides = (),
    quiet: Quiet = False,
) -> None:
    """Translate a split (and answer QA), write hypotheses + metrics JSON, print the scores."""
    from .evaluate import evaluate, load_eval_config

    flags = [f"checkpoint={checkpoint}", f"split={split}", f"context={context}", f"num_beams={beam}"]
    if output is not None:
        flags.append(f"output={output}")
    cfg = load_eval_config(None, [*flags, *set_])
    report = evaluate(cfg, progress=not quiet)
    t = report["translation"]
    typer.echo(f"{report['split']}: {report['sentences']} sentences, context {report['context']}")
    typer.echo(
        "BLEU-1/2/3/4 "
        + " / ".join(f"{t[f'bleu{n}']:.2f}" for n in (1, 2, 3, 4))
        + f"  chrF {t['chrf']:.2f}  ROUGE-L {t['rougeL']:.2f}  exact {t['exact']}/{report['sentences']}"
    )
    typer.echo(f"  {t['bleu_signature']}  (sacreBLEU corpus_bleu: How2Sign's and WMT's convention)")
    typer.echo(
        "raw BLEU-1/2/3/4 "
        + " / ".join(f"{t[f'raw_bleu{n}']:.2f}" for n in (1, 2, 3, 4))
        + f"  {t['raw_bleu_signature']}  (raw_corpus_bleu on the text as it is: signjoey's, PHOENIX papers')"
    )
    loss = report["translation_loss"]
    other = loss["other_clip_nats_per_token"]
    typer.echo(
        f"reference translations (reference context): {loss['nats_per_token']:.3f} nats a token, "
        f"perplexity {loss['perplexity']:.2f} ({loss['tokens']} tokens)"
        + (f"; on another sentence's clip {other:.3f}" if other is not None else "")
    )
    typer.echo(
        f"repetition rate {t['repetition_rate']:.2f}, distinct-1 {t['distinct1']:.2f}, distinct-2 {t['distinct2']:.2f}"
    )
    if report["ambiguous"]:
        a = report["ambiguous"]
        needs = a["needs_context_accuracy"]
        typer.echo(
            f"ambiguous signs: word accuracy {a['accuracy']:.1f} % (n={a['n']}); where only an earlier sentence "
            f"names the topic: " + (f"{needs:.1f} % (n={a['needs_context_n']})" if needs is not None else "none")
        )
    for task, m in report["qa"].items():
        typer.echo(f"QA {task}: accuracy {m['accuracy']:.1f}, F1 {m['f1']:.1f} (n={m['n']})")
    for name, m in report["sign_tokens"].items():
        typer.echo(
            f"sign tokens {name}: effective rank {m['effective_rank']:.1f}, "
            f"norm / text-token norm {m['norm_ratio_to_text']:.2f}"
        )
    for name, m in report["recognition"].items():
        typer.echo(f"glosses {name} (CTC head): WER {m['wer']:.1f}, sequences exact {m['exact']:.1f} % (n={m['n']})")
    typer.echo(f"report: {report['output']}")


Inputs = Annotated[
    list[Path],
    typer.Argument(help="A video or .pose file; or several, folders of them, lists (.txt/.tsv/.csv) with -o FOLDER."),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="One video: the file to write instead of printing. Several, a folder or a list (or a path ending "
        "in /): the folder for one output per input, mirroring input folders; a rerun skips finished ones.",
    ),
]
Overwrite = Annotated[bool, typer.Option(help="With -o FOLDER: redo inputs whose output exists.")]


def _videos(inputs: list[Path]) -> list[Path]:
    """The inputs, a glob of one video's frames (a corpus's ``NAME/*.png``) as their folder."""
    from pose.video import frames_from_glob

    return [frames_from_glob(p) for p in inputs]


def _output_folder(inputs: list[Path], output: str | None) -> Path | None:
    """The folder for one output per input; None: a single video or .pose file, printed or written to
    ``-o FILE`` as it always was. Several inputs need a folder: their outputs are not printed."""
    from pose.batch import MANIFEST_SUFFIXES
    from pose.video import is_frame_folder

    single = len(inputs) == 1 and (is_frame_folder(inputs[0]) or not inputs[0].is_dir())
    one = single and inputs[0].suffix.lower() not in MANIFEST_SUFFIXES
    if one and (output is None or not (output.endswith(("/", os.sep)) or Path(output).is_dir())):
        return None
    if output is None:
        raise InputError(
            None, "several inputs (or a folder or list of them) need -o FOLDER: one output each is written there"
        )
    return output_folder(output)


def _translator(
    checkpoint: Path | None,
    device: str,
    llm: str | None,
    encoder: list[str],
    videos: list[Path],
    progress=None,
    frames_fps: float = 25.0,
):
    from .inference.encoders import parse_encoder_options
    from .inference.translator import Translator, half_weights_pay_off

    # the first video's poses are extracted (in worker processes) while the model loads; the LLM's weights
    # are packed into float16 only where this one call's videos repay the packing
    return Translator.load(
        checkpoint,
        device,
        llm,
        encoders=parse_encoder_options(list(encoder)),
        prefetch=videos[:1],
        half_weights=half_weights_pay_off(videos),
        progress=progress,
        frames_fps=frames_fps,
    )


def _default_model_note(checkpoint: Path | None) -> None:
    """Said after the results (an error before them stays the only line)."""
    if checkpoint is None:
        typer.echo(
            "note: the embedded default model knows only synthetic signing (synthsign), not ASL; "
            "give --checkpoint RUN/last for a model trained on How2Sign",
            err=True,
        )


def _read_context(context: str | None) -> list[str]:
    """``--context``: a text file's contents, or the text itself. A value that names a file (a path
    separator and no spaces, or a text file's suffix) must exist: a typo is not silently used as text."""
    if not context:
        return []
    path = Path(context)
    if path.is_file():
        return [path.read_text(encoding="utf-8", errors="replace").strip()]
    if path.is_dir():
        raise InputError(path, "--context: a folder, not a text file")
    looks_like_path = (os.sep in context and not any(c.isspace() for c in context)) or path.suffix.lower() in (
        ".txt",
        ".md",
        ".json",
        ".tsv",
        ".csv",
    )
    if looks_like_path:
        raise InputError(path, "--context: file not found (to give the text itself, write it in quotes)")
    return [context]


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()  # captured output (pipes, tests) stays clean


def _finish_batch(report, folder: Path, command: str) -> None:
    """Print a batch's summary as extract-poses does; failures: listed in a TSV, exit status 1."""
    from .inference.batch_translate import write_failure_list

    typer.echo(report.summary())
    failures = write_failure_list(report, folder, command)
    if failures is not None:
        typer.echo(f"failures listed in {failures}", err=True)
        raise typer.Exit(1)


@app.command("translate")
def translate_command(
    videos: Inputs,
    checkpoint: Checkpoint = None,
    llm: LlmOverride = None,
    encoder: Encoders = (),
    context: Context = None,
    fmt: str = typer.Option("text", "--format", "-f", help="text, json, srt or vtt."),
    output: OutputOption = None,
    beam: Beam = 5,
    device: Device = "auto",
    verbose: Verbose = False,
    overwrite: Overwrite = False,
    frames_fps: FramesFps = 25.0,
    quiet: Quiet = False,
) -> None:
    """Translate signing in videos (or folders of frames) into text (long videos become timed segments); many
    with -o FOLDER."""
    from pose.io import atomic_output

    from .inference.pose_source import input_seconds
    from .inference.progress import StageBars
    from .inference.subtitles import FORMATS, format_segments

    if fmt not in FORMATS:
        raise InputError(None, f"--format must be one of {', '.join(FORMATS)}, got {quoted(fmt)}")
    prior = _read_context(context)
    videos = _videos(videos)
    folder = _output_folder(videos, output)
    if folder is not None:
        from .inference.batch_translate import FORMAT_SUFFIXES, plan_batch, translate_batch

        batch = plan_batch(videos, folder, FORMAT_SUFFIXES[fmt], overwrite)
        report = batch.report("translated")
        if batch.jobs:  # a model is loaded only when some input is left to do
            translator = _translator(checkpoint, device, llm, encoder, batch.inputs, frames_fps=frames_fps)
            report = translate_batch(
                translator, batch, fmt, prior, beam, progress=_show_progress(quiet), verbose=verbose
            )
        _default_model_note(checkpoint)
        _finish_batch(report, folder, "translate")
        return
    video, bars = videos[0], StageBars(_show_progress(quiet))
    input_seconds(video)  # a bad input is refused before the model loads
    if output is not None:
        output_file(output)  # and an output that cannot be written
    translator = _translator(checkpoint, device, llm, encoder, [video], bars, frames_fps)
    try:
        segments = translator.translate(video, context=prior, num_beams=beam)
    finally:
        bars.close()
    warning = translator.hands_warning(segments, video)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    text = format_segments(segments, fmt, str(video), warning)
    if output is None:
        typer.echo(text, nl=False)
    else:
        with atomic_output(output) as tmp:
            tmp.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output} ({len(segments)} segments)")
    if verbose:
        for s in (s for s in segments if s.glosses is not None):
            typer.echo(f"[{s.start:.1f}-{s.end:.1f} s] signs recognized: {' '.join(s.glosses) or '(none)'}", err=True)
        typer.echo(translator.timings.summary(), err=True)
    _default_model_note(checkpoint)


@app.command("live")
def live_command(
    source: str = typer.Argument(
        ...,
        help="A camera (0, /dev/video0), a stream FFmpeg reads (rtsp://, udp://, srt://, http://...) or a video file.",
    ),
    checkpoint: Checkpoint = None,
    llm: LlmOverride = None,
    encoder: Encoders = (),
    context: Context = None,
    fmt: str = typer.Option("text", "--format", "-f", help="text (timed lines), jsonl, srt or vtt."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Append each segment to this file as it is translated (the lines still print)."
    ),
    realtime: bool = typer.Option(False, "--realtime", help="A video file: play it at its own pace (else: at once)."),
    timeout: float = typer.Option(
        10.0, help="Seconds to wait for a stream to start, and then for each frame before it counts as stopped."
    ),
    show: bool = typer.Option(False, "--show", help="A window with the video, its skeleton and the captions."),
    beam: Beam = 5,
    device: Device = "auto",
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Translate signing as it happens: each sentence when the signer pauses (Ctrl-C stops, keeping the last one)."""
    from .inference.live import LiveConfig
    from .inference.live_source import open_reader
    from .inference.subtitles import CUE_FORMATS

    if fmt not in CUE_FORMATS:
        raise InputError(None, f"--format must be one of {', '.join(CUE_FORMATS)}, got {fmt!r}")
    if output is not None and output.is_dir():
        raise InputError(output, "-o: a folder; give the file to append the segments to")
    config = LiveConfig(realtime=realtime, timeout=timeout, num_beams=beam, context=tuple(_read_context(context)))
    if show:
        from .inference.live_view import display_problem

        problem = display_problem()
        if problem:
            raise InputError(None, f"--show: {problem}")
    reader = open_reader(source, timeout)  # a bad source is refused before the model loads; a live one is drained
    try:
        from .inference.encoders import parse_encoder_options
        from .inference.translator import Translator

        translator = Translator.load(checkpoint, device, llm, encoders=parse_encoder_options(list(encoder)))
    except BaseException:
        reader.close()
        raise
    from .inference.live_console import run_live

    code = run_live(translator, reader, config, fmt, output, show, verbose, _show_progress(quiet))
    _default_model_note(checkpoint)
    if code:
        raise typer.Exit(code)


@app.command("ask")
def ask_command(
    videos: Inputs,
    question: str = typer.Argument(..., help="e.g. \"Is the sign 'store' present?\""),
    checkpoint: Path | None = typer.Option(
        None, help="Checkpoint trained with QA tasks (folder, export or repo id); default: the embedded model."
    ),
    llm: LlmOverride = None,
    encoder: Encoders = (),
    device: Device = "auto",
    output: OutputOption = None,
    overwrite: Overwrite = False,
    frames_fps: FramesFps = 25.0,
    quiet: Quiet = False,
) -> None:
    """Answer a question about the signing in a video; of many with -o FOLDER (one .answer.txt each)."""
    from pose.io import atomic_output

    from .inference.pose_source import input_seconds
    from .inference.progress import StageBars

    if not question.strip():
        raise InputError(None, "the question is empty")
    from .inference.translator import check_question

    check_question(checkpoint, question)  # a question the model does not answer is refused before it loads
    videos = _videos(videos)
    folder = _output_folder(videos, output)
    if folder is not None:
        from .inference.batch_translate import ANSWER_SUFFIX, ask_batch, plan_batch

        batch = plan_batch(videos, folder, ANSWER_SUFFIX, overwrite)
        report = batch.report("answered")
        if batch.jobs:  # as for translate: nothing left, no model loaded
            translator = _translator(checkpoint, device, llm, encoder, batch.inputs, frames_fps=frames_fps)
            report = ask_batch(translator, batch, question, progress=_show_progress(quiet))
        _default_model_note(checkpoint)
        _finish_batch(report, folder, "ask")
        return
    video, bars = videos[0], StageBars(_show_progress(quiet))
    input_seconds(video)  # a bad input is refused before the model loads
    if output is not None:
        output_file(output)  # and an output that cannot be written
    try:
        translator = _translator(checkpoint, device, llm, encoder, [video], bars, frames_fps)
        answer = translator.ask(video, question)
    finally:
        bars.close()
    warning = translator.video_hands_warning(video)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    if output is None:
        typer.echo(answer)
    else:
        with atomic_output(output) as tmp:
            tmp.write_text(answer + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}")
    _default_model_note(checkpoint)


@app.command("export")
def export_command(
    checkpoint: Path = typer.Argument(..., help="A checkpoint (RUN/last) or a pretrained encoder's (PRETRAIN/last)."),
    output: Path = typer.Argument(..., help="The new folder, ready to upload as it is (hf upload USER/NAME OUTPUT)."),
    base_model: str | None = typer.Option(None, help="The LLM's Hub id for the card (default: the checkpoint's LLM)."),
    license_: str | None = typer.Option(None, "--license", help="The card's license (a Hub license id)."),
    dataset: list[str] = typer.Option([], help="A Hub dataset id the model was trained on (repeatable)."),
    report: Path | None = typer.Option(None, help="The evaluate report (default: the newest eval-*.json beside it)."),
    name: str | None = typer.Option(None, help="The card's title, e.g. the repo id (default: the folder's name)."),
    overwrite: bool = typer.Option(False, help="Replace a folder that is not an export."),
) -> None:
    """Export a trained model (or encoder) the Hugging Face way: weights, config.json, a model card."""
    from .model.export import export

    done = export(checkpoint, output, base_model, license_, tuple(dataset), report, name, overwrite)
    files = sorted(p.name + ("/" if p.is_dir() else "") for p in done.iterdir())
    typer.echo(f"exported {checkpoint} to {done}: {', '.join(files)}")
    typer.echo(f"upload it: hf upload USER/NAME {done}; load it: --checkpoint USER/NAME")


# what a command's --config reads where that is not its stage's config in the registry (submit extract-poses
# reads inputs, output and this under `extract`), and the commands that are no stage
COMMAND_CONFIGS = {
    "extract-poses": "pose.config:ExtractConfig",
    "pretrain": "pretrain.build:PretrainConfig",
    "synth": "pose.synth:SynthConfig",
}


@app.command("show-config")
def show_config(
    stage: str = typer.Argument(..., help="A stage (see `signllava submit --help`), pretrain or synth."),
    config: Path | None = typer.Option(None, help="YAML config to merge over the defaults."),
    set_: Overrides = (),
) -> None:
    """Print a stage's resolved config as YAML (defaults, then --config, then --set)."""
    import importlib

    from pose.config_loader import config_yaml

    from .cluster.stages import STAGES

    if stage in COMMAND_CONFIGS:
        module, name = COMMAND_CONFIGS[stage].split(":")
        cfg = load_config(getattr(importlib.import_module(module), name), config, set_)
    elif stage in STAGES:
        cfg = STAGES[stage].config(config, set_)
    else:
        known = ", ".join(sorted({*STAGES, *COMMAND_CONFIGS}))
        raise InputError(None, f"unknown stage {quoted(stage)}; choose one of {known}")
    typer.echo(config_yaml(cfg), nl=False)
    notes = STAGES[stage].notes if stage in STAGES else None
    for line in notes() if notes else []:
        typer.echo(f"# {line}")


@app.command("submit")
def submit_command(
    # the registry (signllava/cluster/stages.py) imports every stage's config: too slow for --help, so its names are
    # spelled here, and tests/signllava/cluster/test_stages.py checks that they are the registry's
    stage: str = typer.Argument(..., help=f"One of: {', '.join(SUBMIT_STAGES)}."),
    profile: Path = typer.Option(..., "--profile", "-p", help="Cluster profile, e.g. slurm/cluster.yaml."),
    config: Path | None = typer.Option(None, help="The stage's YAML config (as for its own command)."),
    set_: Overrides = (),
    variant: str | None = typer.Option(None, "--stage", help="train: " + StageOption),
    init_from: Path | None = typer.Option(None, help="train: the checkpoint folder to start from."),
    local: bool = typer.Option(False, "--local", help="Run the same job here, in this process (no scheduler)."),
    wait: bool = typer.Option(False, "--wait", help="Wait for the job(s) to end and report how they ended."),
) -> None:
    """Submit a stage to SLURM through submitit (arrays for extraction, DDP for training, requeue on preemption)."""
    from .cluster.job_status import wait as wait_for
    from .cluster.launcher import submit

    if init_from is not None:
        set_ = [f"init_from={init_from}", *set_]
    sub = submit(stage, profile, config, set_, local=local, variant=variant)
    tasks = sub.record["tasks"]
    where = "ran here" if local else f"submitted job {sub.job_ids[0]}"
    typer.echo(f"{stage}: {where} ({tasks} task{'s' if tasks > 1 else ''}); outputs in {sub.run}")
    typer.echo(f"logs: {sub.logs}/{sub.job_ids[0]}{'_*' if tasks > 1 else ''}/  status: signllava jobs {sub.run}")
    if not wait or local:
        return
    status = wait_for(sub.logs, sub.record)
    for task in status.tasks:
        typer.echo(f"  {task.key}: {task.state}" + (f" ({task.error})" if task.error else ""))
    if any(t.state != "COMPLETED" for t in status.tasks):
        typer.echo(f"error: job {sub.job_ids[0]} did not complete: {status.counts()}", err=True)
        raise typer.Exit(1)


@app.command("jobs")
def jobs_command(run: Path = typer.Argument(..., help="A run's output folder (where submit put its outputs).")) -> None:
    """The jobs submitted for a run: state per job and array task, and done / failed / missing shards."""
    from .cluster.job_status import status_lines

    for line in status_lines(run):
        typer.echo(line)


def _one_line_warnings() -> None:
    """Print each distinct warning once, as ``warning: ...``, without Python's source line."""
    import warnings

    shown: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = " ".join(str(message).split())
        if text not in shown:
            shown.add(text)
            typer.echo(f"warning: {text}", err=True)

    warnings.showwarning = show


def main() -> None:
    """Run the CLI; every bad input ends as one ``error: ...`` line and exit code 2, never a traceback."""
    _one_line_warnings()
    try:  # typer >= 0.2x carries its own copy of click; earlier releases use click itself
        from typer._click import exceptions as click
    except ImportError:
        from click import exceptions as click

    try:
        code = app(standalone_mode=False)
    except InputError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)
    except getattr(click, "NoArgsIsHelpError", ()) as err:  # click >= 8.2 raises it for a bare group
        typer.echo(err.ctx.get_help())
        sys.exit(0)
    except click.UsageError as err:  # unknown option, missing argument, a value out of its range
        where = err.ctx.command_path if err.ctx is not None else "signllava"
        hint = f" (see '{where} --help')" if err.ctx is not None else ""
        typer.echo(f"error: {where}: {err.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as err:
        typer.echo(f"error: {err.format_message()}", err=True)
        sys.exit(err.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:  # Ctrl-C outside a command that handles it (live does): no traceback
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
