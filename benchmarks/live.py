"""``signllava live`` in real time: does it keep up, how long until each sentence's text, and does it
say what offline ``translate`` says about the same file.

Two 25 fps 1280x720 sources, each played at its own pace (``--realtime``) through the live pipeline
with the embedded default model (beam 5, as the CLI), on this machine:

* ``how2sign``: real How2Sign signing, the first consecutive clips of one video (``_20g7MG8K1U``)
  joined into one video of at least ``--seconds`` (re-timed from ~24 to 25 fps by nearest frame);
* ``synthsign``: the demo's held-out synthsign document (``signllava demo``'s), rendered as video with
  the generator's own drawing (``pose.synth.render``) scaled to 720p. MediaPipe runs on every frame
  (its cost is the point), but it does not track the drawn hands (found in ~15 % of frames), so the
  model reads the generator's landmarks of each frame instead (what the document's ``.pose`` holds):
  what the pipeline would translate if the tracker saw those hands.

For each: frames dropped, latency from each segment's end in the source to its text (median and 90th
percentile), the CPU the run took (this process, and the whole machine with its load average,
since other jobs share it), and the live transcript against offline ``translate`` of the same input
(the video; the document's ``.pose`` for synthsign): segments identical, texts identical, and for
synthsign BLEU-4 of each against the document's sentences.

  python benchmarks/live.py [--seconds 45] [--only how2sign|synthsign] [--beam 5] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from pose.io import read_pose
from signllava.inference.live import LiveConfig, LivePipeline
from signllava.inference.translator import Translator

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "how2sign"
VIDEO_ID = "_20g7MG8K1U"
SIZE = (1280, 720)
FPS = 25


def write_mp4(frames, path: Path) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "20"})
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        for rgb in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")))
        out.mux(stream.encode())
    return path


def how2sign_video(folder: Path, seconds: float) -> tuple[Path, list[str]]:
    """The video's first clips, in order, joined until ``seconds`` long, at 25 fps; and their sentences."""
    from pose.video import VideoStream

    with open(REALDATA / "how2sign_train_subset.tsv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["VIDEO_ID"] == VIDEO_ID]
    rows.sort(key=lambda r: int(r["SENTENCE_ID"].rsplit("_", 1)[1]))
    frames, texts = [], []
    for row in rows:
        frames += VideoStream(REALDATA / "clips" / f"{row['SENTENCE_NAME']}.mp4", target_fps=FPS).frames()
        texts.append(row["SENTENCE"])
        if len(frames) >= seconds * FPS:
            break
    return write_mp4(frames, folder / f"{VIDEO_ID}.mp4"), texts


def synthsign_document(folder: Path) -> tuple[Path, Path, list[str]]:
    """The demo's held-out document rendered as a 720p video, its .pose and its sentences."""
    from pose.synth import SynthConfig
    from pose.synth.generate import plan
    from pose.synth.render import draw_frames
    from pose.synth.signer import sample_signer
    from pose.synth.timeline import document_motion
    from signllava.demo import DEFAULT_SYNTH, heldout_document

    records = heldout_document(folder / "synthsign")
    config = SynthConfig(**DEFAULT_SYNTH)
    doc = next(d for d in plan(config) if d.video_name == records[0].video_name)
    rng = np.random.default_rng(list(doc.seed))  # the generator's own steps, so the same motion
    signer = sample_signer(rng, config.width, config.height)
    motion = document_motion(
        doc.sentences, signer, rng, config.width, config.height, config.fps,
        config.hand_drop_rate, config.rest_drop_rate, config.jitter,
    )  # fmt: skip
    pose_path = folder / "synthsign" / "poses_full" / f"{doc.video_name}.pose"
    assert np.array_equal(read_pose(pose_path).body.data.data[:, 0], motion.data), "not the demo document"
    scale = SIZE[1] / config.height
    clean = motion.clean * scale + np.array([(SIZE[0] - config.width * scale) / 2, 0, 0], np.float32)
    frames = draw_frames(clean, signer, *SIZE)
    return write_mp4(frames, folder / f"{doc.video_name}.mp4"), pose_path, [r.sentence for r in records]


class DocumentPipeline(LivePipeline):
    """The live pipeline, MediaPipe included, reading the document's landmarks for each frame."""

    def __init__(self, *args, pose=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.document = np.asarray(pose.body.data.data[:, 0]), np.asarray(pose.body.confidence[:, 0])

    def landmarks(self, frame, rgb, data, conf):
        data, conf = self.document  # in place of MediaPipe's (which ran, at its cost, as for any video)
        return data[frame.first], conf[frame.first]


def cpu_seconds(process: psutil.Process) -> float:
    """CPU time of this process and its pose worker processes (while they live)."""
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def live_run(translator: Translator, video: Path, pose=None, **config) -> dict:
    """One run (in real time, or as fast as it goes): its report, and the CPU it and the machine used meanwhile."""
    cls = DocumentPipeline if pose is not None else LivePipeline
    extra = {"pose": pose} if pose is not None else {}
    pipeline = cls(translator, str(video), LiveConfig(**config), **extra)
    me = psutil.Process()
    load_before = os.getloadavg()[0]
    pipeline.start()  # the pose graphs are made and the model warmed up: the clock starts with the first frame
    psutil.cpu_percent()
    cpu0, wall0 = cpu_seconds(me), time.monotonic()
    samples = []
    while pipeline.wait(0.5) is None:
        samples.append(cpu_seconds(me))  # (worker processes' time, sampled while they live)
    report = pipeline.wait()
    wall = time.monotonic() - wall0
    ours = (max([*samples, cpu_seconds(me)]) - cpu0) / wall
    return {
        "report": report,
        "wall_s": wall,
        "cores_ours": ours,
        "machine_cpu_percent": psutil.cpu_percent(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "translation_s": [c.translation for c in report.cues],
    }


def bleu4(hypotheses: list[str], references: list[str]) -> float:
    """Document-level BLEU-4: the transcript against the sentences signed (segments need not match sentences)."""
    import sacrebleu

    return sacrebleu.corpus_bleu([" ".join(hypotheses)], [[" ".join(references)]]).score


def agreement(live: list, offline: list) -> dict:
    """How a live transcript's segments compare with offline translate's."""
    return {
        "segments": len(live),
        "segments_identical": [(s.start, s.end) for s in live] == [(s.start, s.end) for s in offline],
        "texts_identical": sum(a.text == b.text for a, b in zip(live, offline, strict=False)),
    }


def figures(name: str, run: dict, unpaced: dict | None, offline: list, references: list[str] | None) -> dict:
    report = run["report"]
    live = [c.segment for c in report.cues]
    lat = report.latencies
    out = {
        "source": name,
        "video_s": report.frames / FPS,
        "frames": report.frames,
        "dropped": report.dropped,
        "dropped_percent": 100 * report.dropped / max(report.frames, 1),
        "latency_median_s": float(np.median(lat)),
        "latency_p90_s": float(np.percentile(lat, 90)),
        "translation_median_s": float(np.median(run["translation_s"])),
        "waited_median_s": float(np.median([c.waited for c in report.cues])),
        "to_close_median_s": float(np.median([c.latency - c.translation - c.waited for c in report.cues])),
        "cores_ours": run["cores_ours"],
        "machine_cpu_percent": run["machine_cpu_percent"],
        "load_before": run["load_before"],
        "load_after": run["load_after"],
        "offline_segments": len(offline),
        "realtime": agreement(live, offline),
        "live": [s.as_dict() for s in live],
        "offline": [s.as_dict() for s in offline],
    }
    if unpaced is not None:
        fast = [c.segment for c in unpaced["report"].cues]
        out["unpaced"] = agreement(fast, offline) | {"dropped": unpaced["report"].dropped}
        out["unpaced_live"] = [s.as_dict() for s in fast]
    if references is not None:
        out["bleu4_live"] = bleu4([s.text for s in live], references)
        out["bleu4_offline"] = bleu4([s.text for s in offline], references)
        if unpaced is not None:
            out["bleu4_unpaced"] = bleu4([s["text"] for s in out["unpaced_live"]], references)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=45.0, help="how2sign: at least this much video")
    parser.add_argument("--only", choices=("how2sign", "synthsign"), help="run one source only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--queue", type=float, default=None, help="LiveConfig.queue_seconds (default: its own)")
    parser.add_argument("--quick", action="store_true", help="the real-time run only (no unpaced or offline run)")
    parser.add_argument("--beam", type=int, default=5, help="beam size (5: the CLI's default)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sources = []
        if args.only in (None, "how2sign"):
            if not REALDATA.is_dir():
                raise SystemExit(f"{REALDATA}: the shared real data is needed")
            video, _ = how2sign_video(folder, args.seconds)
            sources.append(("how2sign", video, None, None))
        if args.only in (None, "synthsign"):
            video, pose_path, references = synthsign_document(folder)
            sources.append(("synthsign", video, pose_path, references))
        translator = Translator.load()  # the embedded default model, its weights packed as live packs them
        config = {"num_beams": args.beam} | ({"queue_seconds": args.queue} if args.queue else {})
        for name, video, pose_path, references in sources:
            pose = read_pose(pose_path) if pose_path is not None else None
            run = live_run(translator, video, pose, realtime=True, **config)
            unpaced = None if args.quick else live_run(translator, video, pose, realtime=False, **config)
            offline = [] if args.quick else translator.translate(pose_path or video, num_beams=args.beam)
            results.append(r := figures(name, run, unpaced, offline, references))
            print(
                f"{name}: {r['video_s']:.1f} s of 720p video in real time: {r['dropped']} of {r['frames']} frames "
                f"dropped ({r['dropped_percent']:.1f} %), {r['realtime']['segments']} segments; latency median "
                f"{r['latency_median_s']:.2f} s, 90th percentile {r['latency_p90_s']:.2f} s (medians: to the cut "
                f"{r['to_close_median_s']:.2f} s, waiting {r['waited_median_s']:.2f} s, translation "
                f"{r['translation_median_s']:.2f} s); this process {r['cores_ours']:.2f} cores, machine "
                f"{r['machine_cpu_percent']:.0f} % of {psutil.cpu_count()} cores, load average "
                f"{r['load_before']:.1f} -> {r['load_after']:.1f}",
                flush=True,
            )
            for s in r["live"]:
                print(f"    [{s['start']:6.2f}-{s['end']:6.2f} s] {s['text']}")
            if args.quick:
                continue
            for kind in ("realtime", "unpaced"):
                a = r[kind]
                print(
                    f"  {kind} run against offline translate ({r['offline_segments']} segments): {a['segments']} "
                    f"segments, identical {a['segments_identical']}, texts identical {a['texts_identical']}"
                    + (f", {a['dropped']} frames dropped" if kind == "unpaced" else ""),
                    flush=True,
                )
            if references is not None:
                print(
                    f"  BLEU-4 against the document: live in real time {r['bleu4_live']:.1f}, live unpaced "
                    f"{r['bleu4_unpaced']:.1f}, offline {r['bleu4_offline']:.1f}",
                    flush=True,
                )
            for s in r["offline"]:
                print(f"    offline [{s['start']:6.2f}-{s['end']:6.2f} s] {s['text']}")
        translator.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
