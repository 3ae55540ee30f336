"""The original JSALT 2024 files as training and evaluation data: annotation JSON as metadata, its
shards (read in place or imported) as features, clips keyed video/clip since their names repeat."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest

from pose.errors import InputError
from pretrain import FeatureStore
from signllava.data.dataset import FeatureSource
from signllava.data.how2sign import read_realigned
from signllava.data.jsalt import read_annotations
from signllava.data.streams import DataConfig, StreamInput, build_streams, load_sentences
from signllava.data.tasks import TaskBuilder
from signllava.model.model import ModelConfig, StreamConfig
from tests.pretrain.test_jsalt import h5py, original_layout
from tests.signllava.conftest import HEADER, config

WORDS = "the horse walks to the barn and eats fresh hay while we brush its mane slowly".split()


def annotation_file(folder, features, split="train", order=None):
    """``annotation.<split>.json`` as the original writes it: per video a clip_order, then per clip its
    translation and three paraphrases; ``order`` (video -> clip names) overrides a video's clip_order.
    Returns the path and {(video, clip): translation}."""
    rng = random.Random(split)
    doc, texts = {}, {}
    for video, clip in features:
        doc.setdefault(video, {"clip_order": []})
        doc[video]["clip_order"].append(clip)
        text = " ".join(rng.sample(WORDS, 5))
        doc[video][clip] = {"translation": text, "paraphrases": [" ".join(rng.sample(WORDS, 5)) for _ in range(3)]}
        texts[video, clip] = text
    for video, clips in (order or {}).items():
        doc[video]["clip_order"] = clips
    path = folder / f"annotation.{split}.json"
    path.write_text(json.dumps(doc))
    return path, texts


def test_annotations_are_sentences_named_video_clip_in_clip_order(tmp_path):
    _, features = original_layout(tmp_path, videos=(3, 2, 11))
    order = {"video_1": ["clip_3", "clip_1", "clip_2"]}  # neither name order nor the order of the keys
    path, texts = annotation_file(tmp_path, features, order=order)
    sentences = read_annotations(path)
    assert len(sentences) == 16 and {s.split for s in sentences} == {"train"}
    doc = json.loads(path.read_text())
    by_name = {s.sentence_name: s for s in sentences}
    for (video, clip), text in texts.items():
        s = by_name[f"{video}/{clip}"]
        assert (s.video_id, s.sentence_id, s.text) == (video, clip, text)
        assert s.paraphrases == tuple(doc[video][clip]["paraphrases"]) and len(s.paraphrases) == 3
        assert s.order == doc[video]["clip_order"].index(clip)
    dev = tmp_path / "annotation.dev.json"
    dev.write_text(path.read_text())
    assert {s.split for s in read_annotations(dev)} == {"val"}  # the original's dev is our val


def test_context_follows_clip_order(tmp_path):
    _, features = original_layout(tmp_path, videos=(3, 2, 11))
    path, texts = annotation_file(tmp_path, features, order={"video_1": ["clip_3", "clip_1", "clip_2"]})
    sentences = load_sentences(DataConfig(metadata=[str(path)]), "train")
    builder = TaskBuilder(sentences)  # prelude 2 + preceding 2, as the original
    by_name = {s.sentence_name: s for s in sentences}
    assert builder.context(by_name["video_1/clip_2"]) == (texts["video_1", "clip_3"], texts["video_1", "clip_1"])
    assert builder.context(by_name["video_1/clip_3"]) == ()
    # clip_10 comes after clip_9 (not after clip_1, where its name sorts)
    wanted = [texts["video_3", c] for c in ("clip_1", "clip_2", "clip_8", "clip_9")]
    assert builder.context(by_name["video_3/clip_10"]) == tuple(wanted)


def test_paraphrases_are_training_targets(tmp_path):
    _, features = original_layout(tmp_path, videos=(3,))
    path, _ = annotation_file(tmp_path, features)
    sentences = load_sentences(DataConfig(metadata=[str(path)]), "train")
    builder = TaskBuilder(sentences, paraphrase_rate=1.0)
    for s in sentences:
        task = builder.make(s, "translate", random.Random(0))
        assert task.answer in s.paraphrases and task.answer != s.text
    assert TaskBuilder(sentences).make(sentences[0], "translate", random.Random(0)).answer == sentences[0].text


@pytest.mark.parametrize(
    "doc,problem",
    [
        ([["clip_1"]], "expected a non-empty object"),
        ({}, "expected a non-empty object"),
        ({"video_1": ["clip_1"]}, "video 'video_1' is a list"),
        ({"video_1": {"clip_1": {"translation": "a"}}}, "video 'video_1': needs a clip_order list"),
        ({"video_1": {"clip_order": "clip_1", "clip_1": {"translation": "a"}}}, "needs a clip_order list"),
        ({"video_1": {"clip_order": ["clip_1", "clip_1"], "clip_1": {"translation": "a"}}}, "more than once"),
        ({"video_1": {"clip_order": [], "clip_1": {"translation": "a"}}}, "clip 'clip_1' is not in its clip_order"),
        ({"video_1": {"clip_order": ["clip_1"]}}, "clip 'clip_1': needs an object with a translation"),
        ({"video_1": {"clip_order": ["clip_1"], "clip_1": {"translation": 3}}}, "needs an object with a translation"),
        ({"video_1": {"clip_order": ["c"], "c": {"translation": "a", "paraphrases": "b"}}}, "paraphrases must be"),
    ],
)
def test_an_annotation_file_not_in_the_layout_is_one_line(tmp_path, doc, problem):
    path = tmp_path / "annotation.train.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=problem) as err:
        load_sentences(DataConfig(metadata=[str(path)]), "train")
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_bad_json_and_a_missing_file(tmp_path):
    path = tmp_path / "annotation.train.json"
    path.write_text('{"video_1": {"clip_order": [}')
    with pytest.raises(InputError, match=r"annotation.train.json: not valid JSON \(.* at line 1\)"):
        read_annotations(path)
    with pytest.raises(InputError, match="annotation file not found"):
        read_annotations(tmp_path / "nope.json")


def test_a_clip_of_the_annotations_missing_from_the_shards(tmp_path):
    folder, features = original_layout(tmp_path, videos=(3, 2))
    path, _ = annotation_file(tmp_path, {**features, ("video_2", "clip_3"): None})
    data = DataConfig(metadata=[str(path)], streams={"pose": StreamInput(store=str(folder / "pose.train.0.h5"))})
    sentences = load_sentences(data, "train")
    with pytest.raises(InputError) as err:
        build_streams(data, sentences, ModelConfig(streams={"pose": StreamConfig(8)}))
    text = str(err.value)
    assert text.startswith(f"{folder / 'pose.train.0.h5'}: stream 'pose' has no features for 1 of the 6 sentences")
    assert str(path) in text and text.endswith("e.g. clip video_2/clip_3") and "\n" not in text


def test_a_how2sign_row_finds_features_imported_from_the_jsalt_layout(tmp_path):
    meta = tmp_path / "h_train.csv"
    meta.write_text(HEADER + "vid\tvid-1\tvid_0\tvid_0-1\t0.0\t1.0\thello\nwid\twid-1\twid_0\twid_0-1\t0.0\t1.0\tbye\n")
    x = np.ones((3, 8), np.float16)
    with FeatureStore.writer(tmp_path / "store", "pose", "jsalt", dim=8) as w:  # as import-jsalt keys them
        w.add("vid/vid_0-1", x)  # the group is the VIDEO_ID ...
        w.add("wid-1/wid_0-1", 2 * x)  # ... or the VIDEO_NAME
    first, second = read_realigned(meta)[0]
    source = FeatureSource(FeatureStore.open(tmp_path / "store", "pose"))
    np.testing.assert_array_equal(source.clip(first, "pose"), x)
    np.testing.assert_array_equal(source.clip(second, "pose"), 2 * x)


def signllava(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signllava", *map(str, args)], capture_output=True, text=True)


def test_import_jsalt_command_keys_clips_and_refuses_bad_shards_with_exit_2(tmp_path):
    folder, features = original_layout(tmp_path)
    done = signllava("features", "import-jsalt", folder / "pose.train.0.h5", tmp_path / "store", "--stream", "pose")
    assert done.returncode == 0, done.stderr
    assert "imported 9 clips" in done.stdout
    assert sorted(FeatureStore.open(tmp_path / "store", "pose").clips()) == sorted(f"{v}/{c}" for v, c in features)
    with h5py.File(folder / "pose.train.1.h5", "a") as f:
        f["video_3"].create_dataset("clip_9", data=np.zeros((2, 8, 1), np.float16))
    bad = signllava("features", "import-jsalt", folder / "pose.train.0.h5", tmp_path / "other", "--stream", "pose")
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1, bad.stderr
    assert str(folder / "pose.train.1.h5") in lines[0] and "video_3/clip_9 is not a 2-D" in lines[0]


def test_train_and_evaluate_on_the_originals_files(llm_dir, tmp_path):
    from pretrain import import_jsalt
    from signllava.evaluate import EvalConfig, evaluate
    from signllava.train import train

    train_dir, train_features = original_layout(tmp_path / "h5", videos=(3, 2, 4))
    dev_dir, dev_features = original_layout(tmp_path / "h5", split="dev", videos=(4, 2), first_video=20)
    train_json, _ = annotation_file(tmp_path, train_features)
    dev_json, dev_texts = annotation_file(tmp_path, dev_features, split="dev")
    store = tmp_path / "store"
    assert import_jsalt(train_dir / "pose.train.0.h5", store, "pose") == 9
    assert import_jsalt(dev_dir / "pose.dev.0.h5", store, "pose") == 6
    data = DataConfig(metadata=[str(train_json), str(dev_json)], streams={"pose": StreamInput(store=str(store))})
    summary = train(config(llm_dir, data, tmp_path / "run", steps=2), progress=False)
    assert summary["steps"] == 2
    checkpoint = str(tmp_path / "run" / "last")
    report = evaluate(
        EvalConfig(checkpoint=checkpoint, split="val", num_beams=1, max_new_tokens=4, qa=["reversed"]), progress=False
    )
    assert report["sentences"] == 6 and report["qa"]["reversed"]["n"] == 12  # each clip asked both ways round
    hyps = {h["sentence_name"]: h for h in report["hypotheses"]}
    assert sorted(hyps) == sorted(f"{v}/{c}" for v, c in dev_features)
    assert hyps["video_20/clip_2"]["reference"] == dev_texts["video_20", "clip_2"]
    # gold context in clip order: the prelude (first 2) and the 2 clips right before
    assert hyps["video_20/clip_4"]["context"] == [dev_texts["video_20", f"clip_{i}"] for i in (1, 2, 3)]
    # the dev shard read in place gives the same features, hence the same translations
    in_place = DataConfig(metadata=[str(dev_json)], streams={"pose": StreamInput(store=str(dev_dir / "pose.dev.0.h5"))})
    again = evaluate(
        EvalConfig(
            checkpoint=checkpoint,
            data=in_place,
            split="val",
            num_beams=1,
            max_new_tokens=4,
            qa=[],
            output=str(tmp_path / "in-place.json"),
        ),
        progress=False,
    )
    assert [h["hypothesis"] for h in again["hypotheses"]] == [h["hypothesis"] for h in report["hypotheses"]]


def test_data_check_reads_an_annotation_file_as_a_dataset_of_its_own(tmp_path):
    """`data check` of the original's annotation JSON (refused as "not How2Sign" before datasets were a registry)."""
    features = [("video_1", "clip_1"), ("video_1", "clip_2"), ("video_2", "clip_1")]
    path, _ = annotation_file(tmp_path, features, split="dev")
    done = signllava("data", "check", path, "-o", tmp_path / "m.tsv")
    assert done.returncode == 0, done.stderr
    assert "dataset: jsalt" in done.stdout and "val            3       3        0" in done.stdout
    rows = (tmp_path / "m.tsv").read_text().splitlines()
    assert len(rows) == 4 and rows[1].split("\t")[4] == "video_1/clip_1" and "\tDATASET\tORDER\t" in rows[0]
