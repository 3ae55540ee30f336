"""Evaluation: the report of a trained checkpoint, and the topic-dependent signs of synthsign."""

from __future__ import annotations

import json
import math

import pytest

from signllava.train import train
from tests.signllava.conftest import config


def test_evaluate_writes_report(llm_dir, dataset, tmp_path):
    from signllava.evaluate import EvalConfig, evaluate

    train(config(llm_dir, dataset, tmp_path / "run", steps=2), progress=False)
    report = evaluate(
        EvalConfig(
            checkpoint=str(tmp_path / "run" / "last"),
            split="train",
            num_beams=2,
            max_new_tokens=5,
            context="own",
            qa=["sign_present", "reversed"],
        ),
        progress=False,
    )
    assert report["sentences"] == 6 and len(report["hypotheses"]) == 6
    t = report["translation"]
    assert {"bleu1", "bleu4", "chrf", "rougeL", "repetition_rate", "distinct1"} <= set(t)
    assert t["bleu_signature"].startswith("nrefs:1|case:mixed")
    # QA measured balanced, as ask answers it: each clip both ways round, one present and one absent word each
    assert report["qa"]["reversed"]["n"] == 12 and report["qa"]["reversed"]["method"] == "contrast"
    reversed_rows = report["qa_answers"]["reversed"]
    assert sorted(r["answer"] for r in reversed_rows) == ["no"] * 6 + ["yes"] * 6
    # contrast: a clip and its reversal always get opposite answers, so both ways round are right or wrong together
    for shown, backwards in zip(reversed_rows[::2], reversed_rows[1::2], strict=True):
        assert shown["sentence_name"] == backwards["sentence_name"] and shown["prediction"] != backwards["prediction"]
    present = report["qa_answers"]["sign_present"]
    assert report["qa"]["sign_present"]["n"] == 12 and report["qa"]["sign_present"]["method"] == "translation"
    assert [r["answer"] for r in present] == ["yes", "no"] * 6
    assert report["sign_tokens"]["pose"]["effective_rank"] >= 1
    assert report["ambiguous"] is None  # not synthsign: no topic-dependent signs to score
    # the held-out answer loss: per token over the whole split, whatever the batches (their sizes differ)
    loss = report["translation_loss"]
    assert loss["tokens"] > 0 and loss["perplexity"] == pytest.approx(math.exp(loss["nats_per_token"]))
    # the control: the same references read from other sentences' clips score differently
    assert loss["other_clip_nats_per_token"] > 0 and loss["other_clip_nats_per_token"] != loss["nats_per_token"]
    one_batch = evaluate(
        EvalConfig(
            checkpoint=str(tmp_path / "run" / "last"),
            split="train",
            max_new_tokens=1,
            qa=[],
            batch_size=4,
            output=str(tmp_path / "b4.json"),
        ),
        progress=False,
    )["translation_loss"]
    assert one_batch["tokens"] == loss["tokens"]
    assert one_batch["nats_per_token"] == pytest.approx(loss["nats_per_token"], rel=1e-4)
    saved = json.loads((tmp_path / "run" / "eval-train.json").read_text())
    assert saved["translation"]["bleu4"] == t["bleu4"]
    # with own outputs as context, a sentence's context holds the model's earlier outputs
    hyps = {h["sentence_name"]: h["hypothesis"] for h in saved["hypotheses"]}
    second = next(h for h in saved["hypotheses"] if h["sentence_name"] == "c1")
    assert second["context"] == [hyps["c0"]] or hyps["c0"] == ""


def test_ambiguous_signs_are_scored_on_synthsign(synth):
    from pose.synth import load_metadata
    from signllava.data.streams import DataConfig
    from signllava.evaluate import ambiguous_words

    data = DataConfig(metadata=[str(p) for p in sorted(synth.glob("how2sign_realigned_*.csv"))])
    records = [r for split in ("train", "test") for r in load_metadata(synth, split)]
    total = sum(len(r.ambiguous) for r in records if r.split == "test")
    needs = sum(not a.in_sentence for r in records if r.split == "test" for a in r.ambiguous)
    assert total > 0
    right = ambiguous_words(data, "test", {r.sentence_name: r.sentence for r in records})
    assert right == {"accuracy": 100.0, "n": total, "needs_context_accuracy": 100.0 if needs else None,
                     "needs_context_n": needs}  # fmt: skip
    assert ambiguous_words(data, "test", {r.sentence_name: "" for r in records})["accuracy"] == 0.0
