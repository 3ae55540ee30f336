"""The offline demo behind ``signllava demo``: the embedded default model translating a generated
synthetic-signing document, and the pose stage on a generated sample video.

The translation sample is a held-out synthsign test document (the default model was trained on
the train split of the same seed; val and test hold only sentences never seen in training),
generated on the spot as .pose files (the signers are drawn skeletons, which MediaPipe would not
track in a video), and its sentence clips are translated in order, each with the model's own
previous outputs as context, as ``evaluate --context own`` does.

The pose-stage sample is made on the spot from the public-domain portrait of Grace Hopper that ships with
matplotlib (so nothing is downloaded): a slow pan and zoom across it for a few seconds, so the
tracker has motion to follow. It shows a body and a face, and no hands (none are in the picture).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose.batch import run_batch, write_failures
from pose.config import ExtractConfig
from pose.errors import InputError
from pose.features import pose_view_208
from pose.io import atomic_output, read_pose
from pose.visualize import draw_pose

from .metrics import same_words

SAMPLE_NAME = "sample_portrait.mp4"
# the synthsign data the embedded default model was trained on (signllava/recipes/default.yaml)
DEFAULT_SYNTH = {"size": "medium", "seed": 0}


def make_sample_video(
    path: str | Path, seconds: float = 3.0, fps: int = 25, size: tuple[int, int] = (480, 480)
) -> Path:
    """Write the demo video: a pan and zoom over matplotlib's Grace Hopper portrait."""
    import av
    import cv2
    from matplotlib import cbook

    image = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))  # BGR, 600 x 512
    h, w = image.shape[:2]
    out_w, out_h = size
    n = int(seconds * fps)
    with atomic_output(path) as tmp, av.open(str(tmp), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = out_w, out_h, "yuv420p"
        for i in range(n):
            t = i / max(n - 1, 1)
            zoom = 1.0 + 0.15 * np.sin(np.pi * t)  # in and out again
            crop = int(min(h, w) / zoom)
            x0 = int((w - crop) * (0.3 + 0.4 * t))  # pan left to right
            y0 = (h - crop) // 3
            frame = cv2.resize(image[y0 : y0 + crop, x0 : x0 + crop], (out_w, out_h))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    return Path(path)


@dataclass
class DemoResult:
    video: Path
    pose: Path
    picture: Path
    frames: int
    found: dict[str, float]  # fraction of frames in which each part was found
    feature_shape: tuple[int, int]


def run_demo(out_dir: str | Path, workers: int = 1, progress: bool = True) -> DemoResult:
    """Generate the sample, extract its poses, draw them and compute the 208-value pose view."""
    out = Path(out_dir)
    video = make_sample_video(out / SAMPLE_NAME)
    report = run_batch([video], out, ExtractConfig(workers=workers, overwrite=True), progress=progress)
    if report.failed:
        write_failures(report, out / "demo.failures.tsv")
        raise RuntimeError(report.failed[0].error)
    pose_path = out / video.with_suffix(".pose").name
    pose = read_pose(pose_path)
    picture = draw_pose(pose_path, out / "sample_portrait.overlay.png", video=video, frames=6)
    features, mask = pose_view_208(pose)
    parts = {"body": mask[:, :25], "right hand": mask[:, 25:46], "left hand": mask[:, 46:67], "face": mask[:, 67:]}
    found = {name: float(m.any(1).mean()) for name, m in parts.items()}
    return DemoResult(video, pose_path, picture, len(pose.body.data), found, features.shape)


@dataclass
class DemoLine:
    start: float  # seconds
    end: float
    hypothesis: str
    reference: str  # the sentence the segment overlaps most
    recognized: tuple[str, ...] | None = None  # the signs the model's gloss head read (None: it has none)
    signed: tuple[str, ...] = ()  # the glosses the sentence was signed as

    @property
    def exact(self) -> bool:
        return same_words(self.hypothesis, self.reference)


@dataclass
class TranslationDemo:
    poses: Path  # the folder of the sentence clips translated
    picture: Path  # the document's skeleton, drawn
    lines: list[DemoLine]
    timings: str


def run_translation_demo(
    out_dir: str | Path, checkpoint: str | Path | None = None, document: int = 0, progress: bool = True
) -> TranslationDemo:
    """Generate held-out synthsign test document number ``document`` and translate its sentence
    clips in order with the (default) model, each with the model's own previous outputs as context."""
    from .inference.translator import Translator

    out = Path(out_dir) / "synthsign"
    mine = heldout_document(out, document, progress)
    video = mine[0].video_name
    translator = Translator.load(checkpoint)
    lines, previous, seconds = [], [], 0.0
    for r in mine:
        (segment, *_) = translator.translate(out / "poses" / f"{r.sentence_name}.pose", context=previous)
        seconds += translator.timings.total()
        lines.append(DemoLine(r.start, r.end, segment.text, r.sentence, segment.glosses, r.glosses))
        previous.append(segment.text)
    picture = draw_pose(out / "poses_full" / f"{video}.pose", Path(out_dir) / f"{video}.png", frames=6)
    return TranslationDemo(out / "poses", picture, lines, f"{seconds:.1f} s for {len(lines)} sentences")


def check_document(document: int) -> None:
    """Refuse a document number the default model's held-out test set does not have."""
    from pose.synth import SynthConfig

    count = SynthConfig(**DEFAULT_SYNTH).doc_counts()["test"]
    if not 0 <= document < count:
        raise InputError(None, f"--document {document}: the held-out test set has documents 0-{count - 1}")


def heldout_document(folder: str | Path, document: int = 0, progress: bool = False) -> list:
    """The sentences (synthsign records, in order) of held-out test document ``document`` of the
    default model's synthsign data, generated into ``folder`` unless already there: clips are
    ``folder/poses/<SENTENCE_NAME>.pose``, the whole document ``folder/poses_full/<VIDEO_NAME>.pose``."""
    from pose.synth import SynthConfig, generate, load_metadata

    folder = Path(folder)
    check_document(document)
    config = SynthConfig(
        **DEFAULT_SYNTH, only_splits=["test"], only_documents=document + 1, progress=progress, overwrite=True
    )
    if not (folder / "synthsign.json").is_file() or _recorded(folder) != config.recorded():
        generate(folder, config)
    records = load_metadata(folder, "test")
    video = sorted({r.video_name for r in records})[document]
    return sorted((r for r in records if r.video_name == video), key=lambda r: r.index)


def _recorded(folder: Path) -> dict:
    import json

    return json.loads((folder / "synthsign.json").read_text())["config"]
