"""synthsign generation: files in How2Sign's layout, determinism, poses, videos, dropped hands."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody

from pose.config import HolisticConfig
from pose.errors import InputError
from pose.features import pose_view_208, sign2vec_view_255
from pose.holistic import holistic_header
from pose.io import read_pose
from pose.synth import SynthConfig, ambiguous_accuracy, generate, load_manifest, load_metadata
from pose.synth.generate import COLUMNS
from pose.synth.grammar import SynthSentence
from pose.synth.lexicon import LEXICON_SIGNS
from pose.synth.signer import LEFT_OFFSET, RIGHT_OFFSET, sample_signer
from pose.synth.timeline import document_motion
from pose.synth.vocab import AMBIGUOUS
from pose.video import VideoStream

SMALL = {"train_docs": 2, "val_docs": 1, "test_docs": 1, "max_sentences": 4, "progress": False}
METADATA = [
    f"{kind}_{split}.{ext}"
    for split in ("train", "val", "test")
    for kind, ext in (("how2sign_realigned", "csv"), ("synthsign", "jsonl"))
] + ["synthsign.json"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "tiny"
    summary = generate(out, SynthConfig(size="tiny", seed=0, render=True, progress=False))
    assert sum(summary.sentences.values()) == len(list((out / "poses").glob("*.pose")))
    return out


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert tuple(rows[0]) == COLUMNS and all(len(r) == len(COLUMNS) for r in rows)
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]]


def test_layout_and_realigned_metadata(tiny):
    assert sorted(p.name for p in tiny.iterdir()) == sorted([*METADATA, "poses", "poses_full", "videos"])
    assert not list(tiny.parent.glob(".partial-*"))
    for split in ("train", "val", "test"):
        rows = _rows(tiny / f"how2sign_realigned_{split}.csv")
        records = load_metadata(tiny, split)
        assert [r["SENTENCE_NAME"] for r in rows] == [r.sentence_name for r in records]
        by_video: dict[str, list[dict]] = {}
        for row, rec in zip(rows, records, strict=True):
            start, end = float(row["START_REALIGNED"]), float(row["END_REALIGNED"])
            assert 0 <= start < end and row["SENTENCE"] == rec.sentence
            assert round((end - start) * 25) == rec.frames
            by_video.setdefault(row["VIDEO_ID"], []).append((start, end))
        for spans in by_video.values():  # sentences of a video in order, not overlapping
            assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    train = {r.glosses for r in load_metadata(tiny, "train")}
    assert not train & {r.glosses for r in load_metadata(tiny, "test")}  # held out: unseen gloss sequences
    manifest = load_manifest(tiny)
    assert manifest["counts"]["train"]["documents"] == 4 and manifest["ambiguous"] == AMBIGUOUS


def test_clips_are_cut_from_documents_by_realigned_times(tiny):
    rec = load_metadata(tiny, "val")[1]
    clip, full = (
        read_pose(tiny / "poses" / f"{rec.sentence_name}.pose"),
        read_pose(tiny / "poses_full" / f"{rec.video_name}.pose"),
    )
    first, last = round(rec.start * 25), round(rec.end * 25)
    np.testing.assert_array_equal(np.asarray(clip.body.data.data), np.asarray(full.body.data.data)[first:last])
    assert len(rec.sign_frames) == len(rec.glosses) and all(0 <= a < b <= rec.frames for a, b in rec.sign_frames)


def test_pose_files_have_the_holistic_header_and_usable_features(tiny):
    expected = holistic_header(256, 256, HolisticConfig())
    right_found = []
    for path in sorted((tiny / "poses").glob("*.pose"))[:12]:
        pose = read_pose(path)
        assert pose.header.total_points() == 576 == expected.total_points()
        assert [(c.name, c.points, c.format) for c in pose.header.components] == [
            (c.name, c.points, c.format) for c in expected.components
        ]
        assert (pose.header.dimensions.width, pose.header.dimensions.height) == (256, 256) and pose.body.fps == 25
        feats, found = pose_view_208(pose)
        assert np.isfinite(feats).all() and np.isfinite(sign2vec_view_255(pose)[0]).all()
        assert found[:, :25].all()  # body always found
        assert np.abs(feats[:, 50:]).max() <= 1
        right_found.append(found[:, 25:46].all(1).mean())
    assert min(right_found) > 0.5 and np.mean(right_found) > 0.85  # the dominant (right) hand in most frames


def test_dropped_hands_have_confidence_zero(tiny):
    dropped = total = 0
    for path in sorted((tiny / "poses_full").glob("*.pose")):
        pose = read_pose(path)
        conf = np.asarray(pose.body.confidence)[:, 0]
        data = np.asarray(pose.body.data.data)[:, 0]
        for offset in (LEFT_OFFSET, RIGHT_OFFSET):
            lost = conf[:, offset : offset + 21] == 0
            assert (lost.all(1) | ~lost.any(1)).all()  # a hand is lost whole
            assert (data[:, offset : offset + 21][lost] == 0).all()
            dropped += lost.all(1).sum()
            total += len(conf)
    assert 0 < dropped < 0.5 * total


def test_rendered_videos_decode_with_the_pose_frame_count(tiny):
    rec = load_metadata(tiny, "test")[0]
    stream = VideoStream(tiny / "videos" / f"{rec.sentence_name}.mp4")
    frames = list(stream.frames())
    assert len(frames) == rec.frames and frames[0].shape == (256, 256, 3)
    assert frames[0].std() > 5  # something is drawn


def test_same_seed_same_bytes_any_workers_and_other_seed_differs(tmp_path):
    a = generate(tmp_path / "a", SynthConfig(seed=3, **SMALL))
    b = generate(tmp_path / "b", SynthConfig(seed=3, workers=2, **SMALL))
    c = generate(tmp_path / "c", SynthConfig(seed=4, **SMALL))
    assert a.sentences == b.sentences
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a" / METADATA[1]).read_bytes() != (tmp_path / "c" / METADATA[1]).read_bytes()
    pa = read_pose(next((tmp_path / "a" / "poses").glob("*.pose")))
    pc = read_pose(next((tmp_path / "c" / "poses").glob("*.pose")))
    assert pa.body.data.shape != pc.body.data.shape or not np.array_equal(pa.body.data.data, pc.body.data.data)
    assert c.sentences["train"] > 0


def test_existing_output_needs_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        generate(out, SynthConfig(**SMALL))
    assert (out / "keep.txt").exists()
    generate(out, SynthConfig(overwrite=True, documents=False, **SMALL))
    assert not (out / "keep.txt").exists() and not (out / "poses_full").exists()
    assert json.loads((out / "synthsign.json").read_text())["config"]["documents"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folders left


def test_ambiguous_accuracy(tiny):
    records = load_metadata(tiny)
    assert sum(len(r.ambiguous) for r in records) > 0
    right = {r.sentence_name: r.sentence for r in records}
    score = ambiguous_accuracy(records, right)
    assert score.accuracy == 1.0 and score.total == sum(len(r.ambiguous) for r in records)
    wrong = {}
    for r in records:  # the same sentence read under another topic
        text = r.sentence
        for amb in r.ambiguous:
            other = next(t for t in AMBIGUOUS[amb.gloss] if t != r.topic)
            text = text.replace(amb.word, AMBIGUOUS[amb.gloss][other] + "x")
        wrong[r.sentence_name] = text
    assert ambiguous_accuracy(records, wrong).accuracy == 0.0


def test_signs_are_distinguishable_from_poses_across_signers():
    """1-nearest-neighbour across unseen signers on the 208-value pose view (12 frames per sign),
    body and dominant hand (the resting hand's lost frames, all zeros, would swamp a plain distance)."""
    header = holistic_header(256, 256, HolisticConfig())
    glosses = [s.gloss for s in LEXICON_SIGNS]

    def instances(seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(glosses))
        sentence = SynthSentence(tuple(glosses[i] for i in order), "", "test", "party", face=("",) * len(glosses))
        motion = document_motion([sentence], sample_signer(rng, 256, 256), rng, 256, 256)
        pose = Pose(header, NumPyPoseBody(25, motion.data[:, None], motion.confidence[:, None]))
        feats, _ = pose_view_208(pose)
        return {
            glosses[i]: feats[np.linspace(a, b - 1, 12).round().astype(int), :92].ravel()  # body 50 + right hand 42
            for i, (a, b) in zip(order, motion.signs[0], strict=True)
        }

    train = [instances(seed) for seed in range(3)]
    keys = [g for d in train for g in d]
    bank = np.stack([v for d in train for v in d.values()])
    hits = total = 0
    for seed in (100, 101):
        for gloss, v in instances(seed).items():
            hits += keys[int(np.argmin(((bank - v) ** 2).sum(1)))] == gloss
            total += 1
    assert hits / total >= 0.95


def test_only_splits_writes_the_same_sentences_of_fewer_splits(tmp_path):
    full = generate(tmp_path / "all", SynthConfig(seed=3, documents=False, **SMALL))
    part = generate(tmp_path / "test", SynthConfig(seed=3, documents=False, only_splits=["test"], **SMALL))
    assert set(part.sentences) == {"test"} and part.sentences["test"] == full.sentences["test"]
    assert not (tmp_path / "test" / "how2sign_realigned_train.csv").exists()
    for name in ("how2sign_realigned_test.csv", "synthsign_test.jsonl"):
        assert (tmp_path / "test" / name).read_bytes() == (tmp_path / "all" / name).read_bytes()
    clip = next((tmp_path / "test" / "poses").glob("*.pose"))
    assert clip.read_bytes() == (tmp_path / "all" / "poses" / clip.name).read_bytes()
    one = generate(tmp_path / "one", SynthConfig(seed=3, only_splits=["test"], only_documents=1, **SMALL))
    first = (tmp_path / "test" / "how2sign_realigned_test.csv").read_text().splitlines()
    rows = (tmp_path / "one" / "how2sign_realigned_test.csv").read_text().splitlines()
    assert rows == first[: 1 + one.sentences["test"]]
    with pytest.raises(InputError, match="only_splits"):
        SynthConfig(only_splits=["dev"])
