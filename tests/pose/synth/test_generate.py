"""synthsign generation: the plan of documents (topics, held-out splits, seeds) and the files in How2Sign's
layout (determinism, poses, videos, dropped hands)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from pose.config import HolisticConfig
from pose.errors import InputError
from pose.features import pose_view_208, sign2vec_view_255
from pose.holistic import holistic_header
from pose.io import read_pose
from pose.synth import TOPICS, SynthConfig, generate, load_manifest, load_metadata, plan
from pose.synth.generate import COLUMNS
from pose.synth.signer import LEFT_OFFSET, RIGHT_OFFSET
from pose.synth.vocab import AMBIGUOUS, TOPIC_SIGN
from pose.video import VideoStream

SMALL = {"train_docs": 2, "val_docs": 1, "test_docs": 1, "max_sentences": 4, "progress": False}
METADATA = [
    f"{kind}_{split}.{ext}"
    for split in ("train", "val", "test")
    for kind, ext in (("how2sign_realigned", "csv"), ("synthsign", "jsonl"))
] + ["synthsign.json"]


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
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="file: a file is in the way: an output folder goes here"):
        generate(tmp_path / "file", SynthConfig(overwrite=True, **SMALL))  # overwrite replaces folders, not files


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


def test_documents_name_their_topic_first_and_ambiguous_words_need_it():
    docs = plan(SynthConfig(size="small", seed=5))
    needs_context = 0
    by_glosses = defaultdict(set)
    for doc in docs:
        first = doc.sentences[0]
        assert TOPIC_SIGN[doc.topic] in first.glosses and first.template == "intro"
        for s in doc.sentences:
            assert s.topic == doc.topic
            by_glosses[s.glosses].add((doc.topic, s.english))
            for amb in s.ambiguous:
                assert amb.in_sentence == (TOPIC_SIGN[doc.topic] in s.glosses)
                needs_context += not amb.in_sentence
    assert needs_context > 50
    # the same gloss sequence reads differently in documents of different topics
    differing = [g for g, seen in by_glosses.items() if len({e for _, e in seen}) > 1]
    assert differing
    for g in differing:
        assert any(x in AMBIGUOUS for x in g)
        assert len({t for t, _ in by_glosses[g]}) > 1


def test_held_out_splits_have_unseen_gloss_sequences():
    docs = plan(SynthConfig(size="small", seed=2))
    train = {s.glosses for d in docs if d.split == "train" for s in d.sentences}
    for split in ("val", "test"):
        held = [s.glosses for d in docs if d.split == split for s in d.sentences]
        assert held and not set(held) & train
    topics = [d.topic for d in docs if d.split == "train"]
    assert {topics.count(t) for t in TOPICS} == {len(topics) // 4}  # balanced


def test_plan_is_deterministic_and_seed_dependent():
    a, b = plan(SynthConfig(seed=7)), plan(SynthConfig(seed=7))
    c = plan(SynthConfig(seed=8))
    assert [d.sentences for d in a] == [d.sentences for d in b]
    assert [d.sentences for d in a] != [d.sentences for d in c]
    # the train split does not depend on how large the held-out splits are
    bigger = plan(SynthConfig(seed=7, test_docs=5))
    assert [d.sentences for d in a if d.split == "train"] == [d.sentences for d in bigger if d.split == "train"]


def test_extra_training_data_avoids_another_folders_held_out_sequences(tmp_path):
    held_out = plan(SynthConfig(size="small", seed=2))
    for split in ("val", "test"):
        lines = [json.dumps({"glosses": list(s.glosses)}) for d in held_out if d.split == split for s in d.sentences]
        (tmp_path / f"synthsign_{split}.jsonl").write_text("\n".join(lines) + "\n")
    avoided = {s.glosses for d in held_out if d.split != "train" for s in d.sentences}

    def train_glosses(**kwargs):
        docs = plan(SynthConfig(seed=3, train_docs=300, val_docs=0, test_docs=0, **kwargs))
        return {s.glosses for d in docs for s in d.sentences}

    assert train_glosses() & avoided  # without it, another seed's training data overlaps them
    assert not train_glosses(avoid_from=str(tmp_path)) & avoided
    (tmp_path / "synthsign_test.jsonl").write_text("not json\n")
    with pytest.raises(InputError, match="synthsign_test.jsonl.*line 1"):
        plan(SynthConfig(seed=3, avoid_from=str(tmp_path)))
    with pytest.raises(InputError, match="avoid_from"):
        SynthConfig(avoid_from=str(tmp_path / "missing"))
