from __future__ import annotations

import json

import numpy as np
import pytest

from pose.errors import InputError
from signllava.build import LoraSettings, TrainConfig, TrainOptim
from signllava.checkpoint import load_checkpoint, read_meta
from signllava.model import ModelConfig, SignLLaVA, StreamConfig
from signllava.train import train


def config(llm_dir, data, out, steps=6, **optim) -> TrainConfig:
    return TrainConfig(
        model=ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(8)}),
        data=data,
        optim=TrainOptim(max_steps=steps, batch_size=3, lr=3e-2, warmup_ratio=0.0, **optim),
        output_dir=str(out),
        device="cpu",
        log_every=1,
        save_every=100,
    )


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

    from signllava.build import load_trained
    from signllava.llm import load_llm

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


def test_half_weights_are_left_alone_without_fbgemm(monkeypatch):
    import torch

    from signllava.llm import half_weight_linears

    layer = torch.nn.Sequential(torch.nn.Linear(4, 4))
    monkeypatch.setattr(torch.backends.quantized, "engine", "qnnpack")  # as on an ARM CPU
    assert not half_weight_linears(layer) and type(layer[0]) is torch.nn.Linear


def test_half_weights_are_left_alone_without_torch_ao_quantization(monkeypatch):
    import sys

    import torch

    from signllava.llm import half_weight_linears

    if "x86" not in torch.backends.quantized.supported_engines:
        pytest.skip("no x86 quantized engine in this PyTorch build")
    layer = torch.nn.Sequential(torch.nn.Linear(4, 4))
    monkeypatch.setattr(torch.backends.quantized, "engine", "x86")  # fbgemm is there ...
    monkeypatch.setitem(sys.modules, "torch.ao.quantization", None)  # ... the module is not: import fails
    assert not half_weight_linears(layer) and type(layer[0]) is torch.nn.Linear


def test_mismatched_checkpoint_is_refused(llm_dir, dataset, tmp_path):
    from signllava.llm import load_llm

    train(config(llm_dir, dataset, tmp_path / "s1", steps=1), progress=False)
    llm, tok = load_llm(llm_dir)
    other = SignLLaVA(ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(16)}), llm, tok)
    with pytest.raises(InputError, match="last: checkpoint has streams"):
        load_checkpoint(tmp_path / "s1" / "last", other)
    with pytest.raises(InputError, match="not a SignLLaVA checkpoint"):
        load_checkpoint(tmp_path, other)


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
    assert report["qa"]["reversed"]["n"] == 6
    assert report["sign_tokens"]["pose"]["effective_rank"] >= 1
    assert report["ambiguous"] is None  # not synthsign: no topic-dependent signs to score
    saved = json.loads((tmp_path / "run" / "eval-train.json").read_text())
    assert saved["translation"]["bleu4"] == t["bleu4"]
    # with own outputs as context, a sentence's context holds the model's earlier outputs
    hyps = {h["sentence_name"]: h["hypothesis"] for h in saved["hypotheses"]}
    second = next(h for h in saved["hypotheses"] if h["sentence_name"] == "c1")
    assert second["context"] == [hyps["c0"]] or hyps["c0"] == ""


def test_cli_train_then_evaluate(llm_dir, dataset, tmp_path):
    from typer.testing import CliRunner

    from signllava.cli import app

    meta, store = dataset.metadata[0], dataset.streams["pose"].store
    common = [
        f"model.llm={llm_dir}",
        "model.streams.pose.dim=8",
        f"data.metadata=[{meta}]",
        f"data.streams.pose.store={store}",
        "data.context.prelude=0",
        "optim.max_steps=2",
        "optim.batch_size=3",
        "device=cpu",
        f"output_dir={tmp_path / 'run'}",
    ]
    runner = CliRunner()
    args = ["train", "-q", *[a for c in common for a in ("--set", c)]]
    result = runner.invoke(app, [*args, "--stop-after", "1"])
    assert result.exit_code == 0 and "trained 1 steps" in result.output, result.output
    result = runner.invoke(app, args)  # resumes: step 2 of 2
    assert result.exit_code == 0, result.output
    assert "trained 2 steps" in result.output
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(tmp_path / "run" / "last"),
            "--split",
            "train",
            "--beam",
            "1",
            "-q",
            "--set",
            "max_new_tokens=4",
            "--set",
            "qa=[]",
            "--set",  # other data: the rest of the data section (streams, context window) stays the checkpoint's
            f"data.metadata=[{meta}]",
            "-o",
            str(tmp_path / "eval.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "BLEU-1/2/3/4" in result.output and "nrefs:1" in result.output
    data = json.loads((tmp_path / "eval.json").read_text())["config"]["data"]
    assert data["context"]["prelude"] == 0 and data["streams"]["pose"]["store"] == str(store)
    result = runner.invoke(app, ["train", "--stage", "2"])
    assert isinstance(result.exception, InputError) and "--init-from" in str(result.exception)


def test_checkpoint_from_before_a_stream_field_existed_still_loads(llm_dir, dataset, tmp_path):
    from signllava.llm import load_llm

    train(config(llm_dir, dataset, tmp_path / "s1", steps=1), progress=False)
    meta_path = tmp_path / "s1" / "last" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["streams"]["pose"]["out_norm"]  # as written before out_norm was added
    meta_path.write_text(json.dumps(meta))
    llm, tok = load_llm(llm_dir)
    model = SignLLaVA(ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(8)}), llm, tok)
    assert load_checkpoint(tmp_path / "s1" / "last", model)["step"] == 1


def test_warm_start_adds_temporal_blocks_to_a_trained_projector(llm_dir, dataset, tmp_path):
    from signllava.llm import load_llm

    train(config(llm_dir, dataset, tmp_path / "s1", steps=2), progress=False)
    cfg = config(llm_dir, dataset, tmp_path / "t", steps=2)
    cfg.model.streams["pose"].temporal = 1
    cfg.init_from = str(tmp_path / "s1" / "last")
    train(cfg, progress=False)
    meta = read_meta(tmp_path / "t" / "last")
    assert meta["streams"]["pose"]["temporal"] == 1
    llm, tok = load_llm(llm_dir)
    grown = SignLLaVA(ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(8, temporal=1)}), llm, tok)
    with pytest.raises(InputError, match="checkpoint has streams"):  # a plain load stays strict
        load_checkpoint(tmp_path / "s1" / "last", grown)
    load_checkpoint(tmp_path / "s1" / "last", grown, warm_start=True)
    state = grown.trainable_state()
    assert not state["projectors.pose.temporal.0.out.weight"].any()  # not in the checkpoint: fresh (identity)
    assert load_checkpoint(tmp_path / "t" / "last", grown)["step"] == 2  # the grown run's own checkpoint: strict


def test_a_config_file_lists_the_whole_stream_set(tmp_path):
    from pose.config_loader import load_config

    path = tmp_path / "c.yaml"
    path.write_text("model:\n  streams:\n    sign2vec: {dim: 64, stride: 4}\noptim: {lr: 0.1}\n")
    cfg = load_config(TrainConfig, path, ["model.streams.sign2vec.stride=2"])
    assert list(cfg.model.streams) == ["sign2vec"]  # the default pose stream is not merged in
    assert cfg.model.streams["sign2vec"].stride == 2 and cfg.optim.lr == 0.1 and cfg.optim.batch_size == 8
    assert load_config(TrainConfig, None, ["model.streams.pose.stride=2"]).model.streams["pose"].dim == 208


def test_export_half_precision_copy_loads_strictly(llm_dir, dataset, tmp_path):
    from safetensors.torch import load_file

    from signllava.checkpoint import export_checkpoint
    from signllava.llm import load_llm

    train(config(llm_dir, dataset, tmp_path / "s1", steps=1), progress=False)
    export_checkpoint(tmp_path / "s1" / "last", tmp_path / "ship")
    assert not (tmp_path / "ship" / "training.pt").exists() and (tmp_path / "ship" / "config.yaml").is_file()
    full = load_file(tmp_path / "s1" / "last" / "model.safetensors")
    half = load_file(tmp_path / "ship" / "model.safetensors")
    assert all(v.dtype.itemsize == 2 for v in half.values()) and set(half) == set(full)
    for folder in (tmp_path / "s1" / "last", tmp_path / "ship"):  # readable like the files beside it
        assert (folder / "model.safetensors").stat().st_mode & 0o777 == (folder / "meta.json").stat().st_mode & 0o777
    llm, tok = load_llm(llm_dir)
    model = SignLLaVA(ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(8)}), llm, tok)
    assert load_checkpoint(tmp_path / "ship", model)["step"] == 1
    for key, value in model.trainable_state().items():
        assert value.dtype == full[key].dtype and (value - full[key]).abs().max() <= 1e-3 * full[key].abs().max() + 1e-6


def test_gloss_ctc_trains_a_recognizer_that_evaluate_scores(llm_dir, tmp_path):
    from pretrain import FeatureStore
    from signllava.build import load_trained
    from signllava.data.dataset import SignDataset
    from signllava.data.streams import DataConfig, StreamInput, build_streams, load_sentences
    from signllava.evaluate import _recognition

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
