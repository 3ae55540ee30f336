"""Passages: consecutive sentences joined into long segments, written as a manifest and trained on."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from pose.features import pose_view_208
from pose.io import read_pose
from signllava.cli import app
from signllava.data.how2sign import Sentence, read_manifest
from signllava.data.passages import join_passages
from signllava.data.poses import sentence_features
from signllava.data.streams import DataConfig, StreamInput, load_sentences
from signllava.evaluate import EvalConfig, evaluate
from signllava.model.build import TrainConfig, TrainOptim
from signllava.model.model import ModelConfig, StreamConfig
from signllava.train import train


def sentence(video: str, k: int, start: float, end: float, split: str = "train") -> Sentence:
    return Sentence(
        video, f"{video}-rgb", f"{video}_{k}", f"{video}_{k}", start, end, f"s{k}.", split, glosses=(f"G{k}",)
    )


def test_passages_take_whole_sentences_until_long_enough():
    a = [sentence("a", k, 4.0 * k, 4.0 * k + 3.5) for k in range(7)]  # 7 sentences of 3.5 s, 0.5 s apart
    b = [sentence("b", k, 2.0 * k, 2.0 * k + 1.5, "test") for k in range(3)]  # 5.5 s in all
    got = join_passages([*reversed(a), *b], seconds=10)  # any order in: time order out
    assert [(p.start, p.end, p.text) for p in got.passages] == [(0.0, 11.5, "s0. s1. s2."), (12.0, 23.5, "s3. s4. s5.")]
    first = got.passages[0]
    assert first.glosses == ("G0", "G1", "G2") and first.split == "train" and first.sentence_id == "a_0-a_2"
    assert first.sentence_name == "a-rgb_passage000" and first.video_name == "a-rgb"  # cut from the full video
    assert got.tails == 1 and got.videos_too_short == 1  # a's last sentence; all of b
    assert "2 passages of >= 10 s (2 train; 11.5-11.5 s" in got.summary(10)
    # a sentence already long enough is a passage of its own
    assert [p.text for p in join_passages(a, seconds=3).passages] == [f"s{k}." for k in range(7)]


def test_a_video_in_two_splits_never_mixes_them():
    mixed = [sentence("v", 0, 0, 6), sentence("v", 1, 6, 12, "test"), sentence("v", 2, 12, 18)]
    got = join_passages(mixed, seconds=10)
    assert [(p.split, p.text) for p in got.passages] == [("train", "s0. s2.")]


def test_cli_passages_train_and_evaluate_on_the_full_videos(llm_dir, synth, tmp_path):
    meta = [synth / f"how2sign_realigned_{split}.csv" for split in ("train", "test")]
    out = tmp_path / "passages.tsv"
    result = CliRunner().invoke(app, ["data", "passages", *map(str, meta), "--seconds", "8", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{out}: " in result.output and "passages of >= 8 s" in result.output
    passages = read_manifest(out)
    assert passages and all(p.duration >= 8 for p in passages) and {p.split for p in passages} == {"train", "test"}
    # every sentence of a passage is in it, in order, and its features are the full video's frames of its span
    originals = [
        s for split in ("train", "test") for s in load_sentences(DataConfig(metadata=list(map(str, meta))), split)
    ]
    first = passages[0]
    inside = [s.text for s in originals if s.video_name == first.video_name and first.start <= s.start < first.end]
    assert first.text == " ".join(inside)
    (_, features), *_ = sentence_features([first], synth / "poses_full")
    full = read_pose(synth / "poses_full" / f"{first.video_name}.pose")
    fps = float(full.body.fps)
    whole, _ = pose_view_208(full)
    assert abs(len(features) - (first.end - first.start) * fps) <= 2
    np.testing.assert_allclose(features, whole[round(first.start * fps) : round(first.start * fps) + len(features)])

    cfg = TrainConfig(
        model=ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(208, stride=4)}, max_length=4096),
        data=DataConfig(metadata=[str(out)], streams={"pose": StreamInput(poses=str(synth / "poses_full"))}),
        optim=TrainOptim(max_steps=2, batch_size=2, lr=3e-2, warmup_ratio=0.0),
        output_dir=str(tmp_path / "run"),
        device="cpu",
        ctc=0.5,
        log_every=1,
    )
    assert train(cfg, progress=False)["steps"] == 2
    report = evaluate(
        EvalConfig(checkpoint=str(tmp_path / "run" / "last"), split="test", num_beams=1, max_new_tokens=3, qa=[]),
        progress=False,
    )
    assert report["sentences"] == sum(p.split == "test" for p in passages)
