"""Generate a synthsign dataset in How2Sign's layout, atomically and deterministically by seed.

Output folder::

    how2sign_realigned_{train,val,test}.csv   TAB-separated How2Sign "realigned" metadata (+ GLOSSES)
    synthsign_{train,val,test}.jsonl          per sentence: glosses, topic, ambiguous words, frames ...
    synthsign.json                            config, counts, lexicon and the ambiguity table
    poses/<SENTENCE_NAME>.pose                one pre-cut clip per sentence (Holistic, 576 points)
    poses_full/<VIDEO_NAME>.pose              one per document (with ``documents``)
    videos/<SENTENCE_NAME>.mp4                drawn signer per sentence (with ``render``)

Everything is planned in this process from the seed (sentences per split from their own random
stream, so the train split does not change with the test size); each document's motion comes
from its own seed, so the output does not depend on the number of workers.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import MESSAGE, InputError, excerpt
from ..io import atomic_folder, atomic_output, output_folder, write_pose
from .config import SPLITS, SynthConfig
from .grammar import SynthSentence, sample_sentence
from .lexicon import LEXICON_SIGNS
from .vocab import AMBIGUOUS, TOPIC_SIGN, TOPICS

FORMAT_VERSION = 1
REALIGNED = ("VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED", "END_REALIGNED", "SENTENCE")
COLUMNS = (*REALIGNED, "GLOSSES")  # GLOSSES is not in How2Sign: the sentence's signs, for the CTC loss (train.ctc)


@dataclass
class DocumentPlan:
    """One document (a How2Sign "video"): its sentences and the seed of its motion."""

    split: str
    index: int
    video_id: str
    topic: str
    sentences: list[SynthSentence]
    seed: tuple[int, ...]

    @property
    def video_name(self) -> str:
        return f"{self.video_id}-rgb_front"

    def sentence_id(self, j: int) -> str:
        return f"{self.video_id}_{j}"

    def sentence_name(self, j: int) -> str:
        return f"{self.video_id}_{j}-rgb_front"


@dataclass
class SynthSummary:
    """What a run wrote."""

    out_dir: str
    documents: dict[str, int] = field(default_factory=dict)  # per split
    sentences: dict[str, int] = field(default_factory=dict)
    frames: dict[str, int] = field(default_factory=dict)  # sentence-clip frames per split
    files: int = 0  # files written
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{s}: {self.sentences[s]} sentences in {self.documents[s]} documents" for s in self.documents]
        return f"synthsign -> {self.out_dir}: " + "; ".join(parts) + f" ({self.files} files, {self.seconds:.1f} s)"


def plan(config: SynthConfig) -> list[DocumentPlan]:
    """Every document of every split, drawn from the seed. Val and test documents hold only
    gloss sequences that never occur in train (unseen sentence combinations); no split holds the
    held-out sequences of ``config.avoid_from``."""
    docs: list[DocumentPlan] = []
    foreign = held_out_glosses(Path(config.avoid_from)) if config.avoid_from else set()
    train_seen: set[tuple[str, ...]] = set(foreign)
    for k, split in enumerate(SPLITS):
        rng = np.random.default_rng([config.seed, 1, k])
        n = config.doc_counts()[split]
        topics = [TOPICS[i % len(TOPICS)] for i in range(n)]
        topics = [topics[i] for i in rng.permutation(n)]  # balanced topics, shuffled
        avoid = (foreign or None) if split == "train" else train_seen
        for i, topic in enumerate(topics):
            count = int(rng.integers(config.min_sentences, config.max_sentences + 1))
            sentences = [sample_sentence(rng, topic, intro=j == 0, avoid=avoid) for j in range(count)]
            if split == "train":
                train_seen.update(s.glosses for s in sentences)
            video_id = f"synth{config.seed}-{split}-{i:05d}"
            docs.append(DocumentPlan(split, i, video_id, topic, sentences, (config.seed, 2, k, i)))
    return docs


def held_out_glosses(folder: Path) -> set[tuple[str, ...]]:
    """The gloss sequences of a synthsign folder's val and test sentences."""
    seen = set()
    for split in ("val", "test"):
        path = folder / f"synthsign_{split}.jsonl"
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                try:
                    seen.add(tuple(json.loads(line)["glosses"]))
                except (ValueError, KeyError, TypeError) as e:
                    raise InputError(
                        path, f"line {n} is not a synthsign sentence record ({excerpt(e, MESSAGE)})"
                    ) from None
    return seen


def _header(config: SynthConfig):
    from ..config import HolisticConfig
    from ..holistic import holistic_header

    return holistic_header(config.width, config.height, HolisticConfig())


def _make_document(doc: DocumentPlan, config: SynthConfig, out: Path) -> dict:
    """Synthesize one document and write its files under ``out``; return its frame spans."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    from .signer import sample_signer
    from .timeline import document_motion

    rng = np.random.default_rng(list(doc.seed))
    signer = sample_signer(rng, config.width, config.height)
    motion = document_motion(
        doc.sentences,
        signer,
        rng,
        config.width,
        config.height,
        config.fps,
        config.hand_drop_rate,
        config.rest_drop_rate,
        config.jitter,
    )
    header = _header(config)

    def pose(a: int, b: int) -> Pose:
        body = NumPyPoseBody(fps=config.fps, data=motion.data[a:b, None], confidence=motion.confidence[a:b, None])
        return Pose(header, body)

    files = 0
    for j, (a, b) in enumerate(motion.sentences):
        write_pose(pose(a, b), out / "poses" / f"{doc.sentence_name(j)}.pose")
        files += 1
    if config.documents:
        write_pose(pose(0, len(motion.data)), out / "poses_full" / f"{doc.video_name}.pose")
        files += 1
    if config.render:
        from .render import draw_frames, write_mp4

        for j, (a, b) in enumerate(motion.sentences):
            path = out / "videos" / f"{doc.sentence_name(j)}.mp4"  # ``out`` is the run's temporary folder
            path.parent.mkdir(parents=True, exist_ok=True)
            write_mp4(draw_frames(motion.clean[a:b], signer, config.width, config.height), path, config.fps)
            files += 1
    return {
        "frames": len(motion.data),
        "sentences": motion.sentences,
        "signs": [[(s - a, e - a) for s, e in sg] for (a, _), sg in zip(motion.sentences, motion.signs, strict=True)],
        "files": files,
    }


def _seconds(frame: int, fps: float) -> str:
    return f"{frame / fps:.3f}"  # cut back with round(seconds * fps): exact for any fps up to 500


def _record(doc: DocumentPlan, j: int, result: dict, fps: float) -> dict:
    s = doc.sentences[j]
    a, b = result["sentences"][j]
    return {
        "video_id": doc.video_id,
        "video_name": doc.video_name,
        "sentence_id": doc.sentence_id(j),
        "sentence_name": doc.sentence_name(j),
        "split": doc.split,
        "index": j,
        "topic": doc.topic,
        "topic_sentence": 0,  # the sentence of this document that names the topic
        "template": s.template,
        "mood": s.mood,
        "glosses": list(s.glosses),
        "sentence": s.english,
        "paraphrases": list(s.paraphrases),
        "ambiguous": [asdict(x) for x in s.ambiguous],
        "face": list(s.face),
        "start": float(_seconds(a, fps)),
        "end": float(_seconds(b, fps)),
        "frames": b - a,
        "sign_frames": [list(x) for x in result["signs"][j]],
    }


def _write_text(path: Path, text: str) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _write_metadata(out: Path, config: SynthConfig, docs: list[DocumentPlan], results: list[dict]) -> int:
    files = 0
    counts = {s: {"documents": 0, "sentences": 0, "frames": 0} for s in config.only_splits or SPLITS}
    for split in config.only_splits or SPLITS:
        table = io.StringIO()
        writer = csv.writer(table, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        lines = []
        for doc, result in zip(docs, results, strict=True):
            if doc.split != split:
                continue
            counts[split]["documents"] += 1
            for j in range(len(doc.sentences)):
                rec = _record(doc, j, result, config.fps)
                a, b = result["sentences"][j]
                row = (rec["video_id"], rec["video_name"], rec["sentence_id"], rec["sentence_name"])
                times = (_seconds(a, config.fps), _seconds(b, config.fps))
                writer.writerow((*row, *times, rec["sentence"], " ".join(rec["glosses"])))
                lines.append(json.dumps(rec, sort_keys=True, ensure_ascii=False))
                counts[split]["sentences"] += 1
                counts[split]["frames"] += rec["frames"]
        _write_text(out / f"how2sign_realigned_{split}.csv", table.getvalue())
        _write_text(out / f"synthsign_{split}.jsonl", "".join(line + "\n" for line in lines))
        files += 2
    manifest = {
        "format_version": FORMAT_VERSION,
        "config": config.recorded(),
        "counts": counts,
        "topics": {t: TOPIC_SIGN[t] for t in TOPICS},
        "ambiguous": AMBIGUOUS,
        "lexicon": [{**asdict(s), "movement": asdict(s.movement)} for s in LEXICON_SIGNS],
        "layout": {
            "clips": "poses/<SENTENCE_NAME>.pose",
            "documents": "poses_full/<VIDEO_NAME>.pose" if config.documents else None,
            "videos": "videos/<SENTENCE_NAME>.mp4" if config.render else None,
        },
    }
    _write_text(out / "synthsign.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return files + 1


def generate(out_dir: str | os.PathLike, config: SynthConfig | None = None) -> SynthSummary:
    """Generate a synthsign dataset into ``out_dir`` (see the module doc for the layout)."""
    config = config or SynthConfig()
    started = time.perf_counter()
    out = output_folder(out_dir)
    docs = [
        d
        for d in plan(config)
        if (config.only_splits is None or d.split in config.only_splits)
        and (config.only_documents is None or d.index < config.only_documents)
    ]
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not config.overwrite:
        raise InputError(out, "output folder exists and is not empty (set overwrite to replace it)")
    with atomic_folder(out) as tmp:  # the old folder (if any) goes only once the new one is complete
        results: list[dict | None] = [None] * len(docs)
        workers = min(config.workers or os.cpu_count() or 1, len(docs))
        total = sum(len(d.sentences) for d in docs)
        with tqdm(total=total, unit="sent", desc="synthsign", disable=not config.progress, dynamic_ncols=True) as bar:
            if workers <= 1:
                for i, doc in enumerate(docs):
                    results[i] = _make_document(doc, config, tmp)
                    bar.update(len(doc.sentences))
            else:
                ctx = mp.get_context("spawn")  # like pose.batch: no fork after MediaPipe is imported
                with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                    futures = {pool.submit(_make_document, doc, config, tmp): i for i, doc in enumerate(docs)}
                    try:
                        for future in as_completed(futures):
                            i = futures[future]
                            results[i] = future.result()
                            bar.update(len(docs[i].sentences))
                    except BrokenProcessPool as err:
                        raise RuntimeError(
                            "synthsign worker processes died; if generate() is called from a script with "
                            "workers != 1, put the call under `if __name__ == '__main__':` (workers are spawned)"
                        ) from err
        files = sum(r["files"] for r in results) + _write_metadata(tmp, config, docs, results)
    summary = SynthSummary(str(out), files=files, seconds=time.perf_counter() - started)
    for split in config.only_splits or SPLITS:
        mine = [(d, r) for d, r in zip(docs, results, strict=True) if d.split == split]
        summary.documents[split] = len(mine)
        summary.sentences[split] = sum(len(d.sentences) for d, _ in mine)
        summary.frames[split] = sum(b - a for _, r in mine for a, b in r["sentences"])
    return summary
