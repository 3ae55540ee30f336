from __future__ import annotations

import json

import numpy as np
import pytest

from pose.errors import InputError
from signllava.model.build import LoraSettings
from signllava.model.checkpoint import read_meta
from signllava.train import train
from tests.signllava.conftest import config


def test_stage1_trains_and_saves_only_trainable_state(llm_dir, dataset, tmp_path):
    summary = train(config(llm_dir, dataset, tmp_path / "run"), progress=False)
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert summary["steps"] == 6 and len(metrics) == 6
    assert metrics[-1]["loss"] < metrics[0]["loss"]
    assert (tmp_path / "run" / "loss.png").stat().st_size > 0
    meta = read_meta(tmp_path / "run" / "last")
    assert meta["step"] == 6 and meta["streams"]["pose"]["dim"] == 8 and not meta["lora"]
    weights = (tmp_path / "run" / "last" / "model.safetensors").stat().st_size
    assert weights < 200_000  # projectors + delimiters, not the LLM


def test_resume_continues_the_same_curve(llm_dir, dataset, tmp_path):
    straight = train(config(llm_dir, dataset, tmp_path / "a"), progress=False)
    train(config(llm_dir, dataset, tmp_path / "b"), progress=False, should_stop=lambda step: step == 3)
    resumed = train(config(llm_dir, dataset, tmp_path / "b"), progress=False)
    a = [json.loads(x)["loss"] for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    b = [json.loads(x)["loss"] for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert len(b) == 6 and resumed["steps"] == straight["steps"] == 6
    np.testing.assert_allclose(b, a, rtol=1e-4)


def test_stage2_lora_from_stage1_and_folded_into_the_llm_for_inference(llm_dir, dataset, tmp_path):
    import torch
    from peft import PeftModel

    from signllava.model.build import load_trained
    from signllava.model.llm import load_llm

    train(config(llm_dir, dataset, tmp_path / "s1", steps=2), progress=False)
    cfg = config(llm_dir, dataset, tmp_path / "s2", steps=3, label_smoothing=0.1)
    cfg.lora = LoraSettings(enabled=True, r=4, alpha=8)
    cfg.init_from = str(tmp_path / "s1" / "last")
    train(cfg, progress=False)
    meta = read_meta(tmp_path / "s2" / "last")
    assert meta["lora"] and meta["step"] == 3
    adapted, _ = load_trained(tmp_path / "s2" / "last", "cpu")
    merged, _ = load_trained(tmp_path / "s2" / "last", "cpu", merge=True)  # as Translator.load does
    assert isinstance(adapted.llm, PeftModel) and not isinstance(merged.llm, PeftModel)
    ids = torch.arange(3, 19).view(2, 8)
    with torch.no_grad():
        base, want, got = (m(input_ids=ids).logits for m in (load_llm(llm_dir)[0], adapted.llm, merged.llm))
    assert (want - base).abs().max() > 1e-3  # the adapters changed the LLM ...
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)  # ... and folding them in keeps the change

    half, _ = load_trained(tmp_path / "s2" / "last", "cpu", merge=True, half_weights=True)  # as translate runs
    assert not any(type(m) is torch.nn.Linear for m in half.llm.modules())  # every one packed, lm_head too
    embed = half.llm.get_input_embeddings().weight  # tied to lm_head: the inputs keep their float32 table
    assert embed.dtype == torch.float32 and torch.equal(embed, merged.llm.get_input_embeddings().weight)
    with torch.no_grad():
        rounded = half.llm(input_ids=ids).logits
    assert (rounded - got).abs().max() > 0  # the weights were rounded to float16 ...
    # ... and only that: float16 keeps ~3 significant digits per weight; over the layers the logits move
    # by ~1e-4 of their range on average and ~2e-3 at the worst of ~800k (torch 2.13), a wrong packing by ~1
    err = (rounded - got).abs() / float(got.abs().max())
    assert float(err.mean()) < 5e-4 and float(err.max()) < 1e-2, (float(err.mean()), float(err.max()))


def test_gloss_ctc_trains_a_recognizer_that_evaluate_scores(llm_dir, tmp_path):
    from pretrain import FeatureStore
    from signllava.data.dataset import SignDataset
    from signllava.data.streams import DataConfig, StreamInput, build_streams, load_sentences
    from signllava.evaluate import _recognition
    from signllava.model.build import load_trained

    rng = np.random.default_rng(0)
    prototypes = {g: 3 * rng.standard_normal(8) for g in "ABCD"}
    signs = [("A", "B"), ("C", "D", "A"), ("B", "C"), ("D", "A"), ("A", "C", "B"), ("D", "B")]
    header = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\tGLOSSES\n"
    rows = [f"v\tv-1\tv_{i}\tc{i}\t{i}.0\t{i}.5\tsentence {i}\t{' '.join(g)}\n" for i, g in enumerate(signs)]
    (tmp_path / "toy_train.csv").write_text(header + "".join(rows))
    with FeatureStore.writer(tmp_path / "store", "pose", "job0", dim=8) as w:
        for i, glosses in enumerate(signs):  # each sign: 4 noisy frames of its own prototype
            frames = np.concatenate([np.tile(prototypes[g], (4, 1)) for g in glosses])
            w.add(f"c{i}", frames + 0.1 * rng.standard_normal(frames.shape))
    data = DataConfig(
        metadata=[str(tmp_path / "toy_train.csv")], streams={"pose": StreamInput(store=str(tmp_path / "store"))}
    )
    cfg = config(llm_dir, data, tmp_path / "run", steps=40)
    cfg.ctc = 1.0
    train(cfg, progress=False)
    metrics = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["ctc"] < metrics[0]["ctc"] / 4
    model, _ = load_trained(tmp_path / "run" / "last", "cpu")
    assert model.config.glosses == ["A", "B", "C", "D"] and read_meta(tmp_path / "run" / "last")["glosses"] == 4
    sentences = load_sentences(data, "train")
    dataset = SignDataset(sentences, build_streams(data, sentences, model.config), translation_only=True)
    assert _recognition(model, dataset, batch_size=4) == {"pose": {"wer": 0.0, "exact": 100.0, "n": 6}}


def test_gloss_ctc_needs_glosses_in_the_metadata(llm_dir, dataset, tmp_path):
    cfg = config(llm_dir, dataset, tmp_path / "run", steps=1)
    cfg.ctc = 0.5
    with pytest.raises(InputError, match="no GLOSSES column"):
        train(cfg, progress=False)


def test_resuming_a_run_folder_whose_state_asks_to_run_code_is_refused(llm_dir, dataset, tmp_path):
    import torch

    from tests.conftest import Payload

    train(config(llm_dir, dataset, tmp_path / "run"), progress=False, should_stop=lambda step: step == 2)
    state_file = tmp_path / "run" / "last" / "training.pt"
    torch.save(torch.load(state_file, weights_only=True) | {"metrics": [Payload(tmp_path / "ran")]}, state_file)
    with pytest.raises(InputError, match=r"training\.pt: refused: it asks for (posix|os|nt)\.system"):
        train(config(llm_dir, dataset, tmp_path / "run"), progress=False)
    assert not (tmp_path / "ran").exists()
