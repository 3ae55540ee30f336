"""The connectors (signllava/connectors) on the tiny LLM: mlp unchanged, the resampler's token counts,
the gated cross-attention's gate-zero identity and its cached frame keys and values, checkpoints."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from pose.errors import InputError
from signllava.model.checkpoint import load_checkpoint, read_meta, write_checkpoint
from signllava.model.connectors import CONNECTORS, CrossAttentionConfig, ResamplerConfig, connector_lines
from signllava.model.connectors.registry import Connector, register
from signllava.model.connectors.xattn import decoder_layers
from signllava.model.model import ModelConfig, SignLLaVA, StreamConfig
from tests.signllava.conftest import batch, make, tiny_llama

REFERENCE = Path(__file__).with_name("connectors_mlp_reference.json")
STREAMS = {"pose": StreamConfig(8), "mae": StreamConfig(6, "linear")}


def connector_model(tiny_llm, kind: str, streams=None, llm=None, **settings) -> SignLLaVA:
    """A two-stream model on the tiny LLM: 4 frames a second, 2 queries a window, a block before every layer."""
    model_llm, tok = tiny_llm
    settings = {"resampler": ResamplerConfig(fps=4.0, queries=2), "xattn": CrossAttentionConfig(every=1)} | settings
    cfg = ModelConfig(llm="tiny", streams=dict(streams or STREAMS), connector=kind, **settings)
    return SignLLaVA(cfg, llm if llm is not None else model_llm, tok)


def open_gates(model: SignLLaVA, value: float = 0.7) -> None:
    """Gates away from 0, so that the frames change the LLM's outputs."""
    with torch.no_grad():
        for name, p in model.connector.named_parameters():
            if name.endswith("_gate"):
                p.fill_(value)


def reference_numbers(model: SignLLaVA) -> dict:
    """Loss, squared gradient norms and answers on a fixed seed (how connectors_mlp_reference.json was made)."""
    torch.manual_seed(3)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.05)
    tasks, streams, masks = batch()
    loss = model(tasks, streams, masks)
    loss.backward()
    grads = {n: p.grad.double().pow(2).sum().item() for n, p in model.named_parameters() if p.grad is not None}
    return {
        "loss": loss.item(),
        "grad_sq": grads,
        "greedy": model.generate(tasks, streams, masks, max_new_tokens=6),
        "beams": model.generate(tasks, streams, masks, max_new_tokens=6, num_beams=3),
    }


def test_mlp_is_the_model_from_before_connectors(tiny_llm):
    reference = json.loads(REFERENCE.read_text())
    model = make(tiny_llm, pool="mean", stride=2, out_norm="rms", temporal=1)
    assert model.config.connector == "mlp" and not list(model.connector.parameters())
    got = reference_numbers(model)
    assert got["greedy"] == reference["greedy"] and got["beams"] == reference["beams"]
    assert set(got["grad_sq"]) == set(reference["grad_sq"])  # the same trainable parameters, none added
    # a tolerance only for another CPU's float kernels: on the machine that made the reference they are equal
    assert math.isclose(got["loss"], float.fromhex(reference["loss"]), rel_tol=1e-6)
    for name, value in reference["grad_sq"].items():
        assert math.isclose(got["grad_sq"][name], float.fromhex(value), rel_tol=1e-5), name


@pytest.mark.parametrize("kind", ["xattn", "hybrid"])
def test_with_every_gate_at_zero_the_logits_are_the_frozen_llms_exactly(tiny_llm, kind):
    model = connector_model(tiny_llm, kind)
    tasks, streams, masks = batch()
    projected = model.project(streams, masks)
    enc = model._encode(tasks, projected, with_answer=True)
    inputs = {"inputs_embeds": enc["inputs_embeds"], "attention_mask": enc["attention_mask"]}
    with torch.no_grad():
        plain = model.llm(**inputs).logits
        with model._reading(projected, enc):
            reading = model.llm(**inputs).logits
        open_gates(model)
        with model._reading(projected, enc):
            opened = model.llm(**inputs).logits
    assert torch.equal(reading, plain)
    assert (opened - plain).abs().max() > 1e-3  # the blocks do act once their gates open ...
    first = int(model.reads_from(enc["input_ids"], enc["attention_mask"]).min())
    assert torch.equal(opened[:, :first], plain[:, :first])  # ... from the first stream on, not on the system prompt


def test_models_sharing_an_llm_each_read_only_their_own_frames(tiny_llm):
    import gc

    layers = decoder_layers(tiny_llm[0])
    closed = connector_model(tiny_llm, "xattn")  # gates at 0
    tasks, streams, masks = batch()
    with torch.no_grad():
        before = closed.losses(tasks, streams, masks).total
        opened = connector_model(tiny_llm, "xattn")
        open_gates(opened)
        assert all(len(layer._forward_pre_hooks) == 2 for layer in layers)
        assert abs(float(opened.losses(tasks, streams, masks).total - before)) > 1e-4
        assert torch.equal(closed.losses(tasks, streams, masks).total, before)  # the other's open gates stay its own
    del opened
    gc.collect()
    assert all(len(layer._forward_pre_hooks) == 1 for layer in layers)  # a model's hooks leave with it


def test_xattn_puts_only_the_delimiters_in_the_sequence(tiny_llm):
    model = connector_model(tiny_llm, "xattn")
    ids = model.encode(*batch())["input_ids"]
    assert not (ids == model.sign_id).any()
    assert (ids == model.start_id).sum(1).tolist() == [3, 3, 3]  # the system prompt's mention + one per stream
    assert model.reads_from(ids, torch.ones_like(ids)).tolist() == [
        int((row == model.end_id).nonzero()[1]) - 1 for row in ids
    ]


@pytest.mark.parametrize(
    ("pose", "resampler", "tokens"),
    [
        # 4 frames a window: lengths 5, 3, 4 -> 2, 1, 1 windows of 2 tokens, in each of the two streams
        (StreamConfig(8, pool="none"), ResamplerConfig(fps=4.0, queries=2), [8, 4, 4]),
        # pose pooled by 2: 2 projected frames a window cover the same seconds
        (StreamConfig(8, stride=2), ResamplerConfig(fps=4.0, queries=2), [8, 4, 4]),
        # a window per segment: 3 tokens per clip and stream, however long
        (StreamConfig(8), ResamplerConfig(window=0, queries=3), [6, 6, 6]),
        # 2-second windows, 1 query
        (StreamConfig(8), ResamplerConfig(window=2.0, fps=2.0, queries=1), [4, 2, 2]),
        # joint: one block over both streams' frames of each window
        (StreamConfig(8), ResamplerConfig(fps=4.0, queries=2, joint=True), [4, 2, 2]),
    ],
)
def test_the_resampler_makes_its_queries_tokens_per_window(tiny_llm, pose, resampler, tokens):
    model = connector_model(
        tiny_llm, "resampler", streams={"pose": pose, "mae": StreamConfig(6, "linear")}, resampler=resampler
    )
    tasks, streams, masks = batch()
    blocks = model.connector.sequence(model.project(streams, masks))
    assert len(blocks) == (1 if resampler.joint else 2)
    assert [int(sum(mask[b].sum() for _, mask in blocks.values())) for b in range(3)] == tokens
    ids = model.encode(tasks, streams, masks)["input_ids"]
    assert (ids == model.sign_id).sum(1).tolist() == tokens
    assert (ids == model.start_id).sum(1).tolist() == [1 + len(blocks)] * 3
    for x, _ in blocks.values():
        rms = x.detach().pow(2).mean().sqrt()
        text = model.llm.get_input_embeddings().weight.pow(2).mean().sqrt()
        assert 0.5 < float(rms / text) < 2.0  # at the text embeddings' scale


@pytest.mark.parametrize("kind", ["xattn", "hybrid"])
def test_cached_frame_keys_and_values_give_the_uncached_answers(tiny_llm, kind, monkeypatch):
    model = connector_model(tiny_llm, kind)
    open_gates(model, 2.0)
    tasks, streams, masks = batch()
    computed = []
    for block in model.connector.xattn.blocks:  # count every computation of the frames' keys and values
        monkeypatch.setattr(
            block.attn, "keys_values", lambda memory, f=block.attn.keys_values: computed.append(1) or f(memory)
        )
    answers = {}
    for cached in (True, False):
        model.connector.xattn.cache_frames = cached
        computed.clear()
        answers[cached] = [model.generate(tasks, streams, masks, max_new_tokens=5, num_beams=n) for n in (1, 3)]
        calls = len(computed)
        if cached:  # once per block and batch in each of the two searches, not at every step
            assert calls == 2 * len(model.connector.xattn.blocks)
        else:
            assert calls > 5 * 2 * len(model.connector.xattn.blocks)
    assert answers[True] == answers[False]
    assert answers[True][0] != connector_model(tiny_llm, "mlp").generate(tasks, streams, masks, max_new_tokens=5)


def test_beam_search_keeps_each_samples_frames(tiny_llm):
    model = connector_model(tiny_llm, "xattn")
    open_gates(model, 2.0)
    tasks, streams, masks = batch()
    together = model.generate(tasks, streams, masks, max_new_tokens=5, num_beams=3)
    alone = []
    for i in range(3):
        n = int(masks["pose"][i].sum())
        one = {k: v[i : i + 1, :n] for k, v in streams.items()}
        alone += model.generate(tasks[i : i + 1], one, {k: v[i : i + 1, :n] for k, v in masks.items()}, 5, 3)
    assert together == alone


def test_checkpoints_record_their_connector_and_refuse_another(tiny_llm, tmp_path):
    _, tok = tiny_llm
    model = connector_model(tiny_llm, "hybrid")
    open_gates(model)
    for folder in ("hybrid", "old"):
        (tmp_path / folder).mkdir()
    write_checkpoint(tmp_path / "hybrid", model, step=3)

    def fresh():  # another tiny LLM of the same shape (the tokenizer has grown by the special tokens since)
        return tiny_llama(tok, vocab_size=model.vocab_size)

    meta = read_meta(tmp_path / "hybrid")
    assert meta["connector"]["kind"] == "hybrid" and meta["connector"]["xattn"]["every"] == 1
    again = connector_model(tiny_llm, "hybrid", llm=fresh())
    load_checkpoint(tmp_path / "hybrid", again)
    for key, value in model.trainable_state().items():
        assert torch.equal(again.trainable_state()[key], value), key
    with pytest.raises(
        InputError, match="trained with connector 'hybrid'.*built with 'mlp': set model.connector=hybrid"
    ):
        load_checkpoint(tmp_path / "hybrid", connector_model(tiny_llm, "mlp", llm=fresh()))
    with pytest.raises(InputError, match="trained with connector 'hybrid'"):  # a warm start too
        load_checkpoint(tmp_path / "hybrid", connector_model(tiny_llm, "xattn", llm=fresh()), warm_start=True)
    other = connector_model(tiny_llm, "hybrid", llm=fresh(), xattn=CrossAttentionConfig(every=2))
    with pytest.raises(InputError, match="connector settings"):
        load_checkpoint(tmp_path / "hybrid", other)
    # a checkpoint from before connectors records none: it is mlp's
    write_checkpoint(tmp_path / "old", connector_model(tiny_llm, "mlp", llm=fresh()))
    old = json.loads((tmp_path / "old" / "meta.json").read_text())
    assert old.pop("connector") == {"kind": "mlp"}
    (tmp_path / "old" / "meta.json").write_text(json.dumps(old))
    load_checkpoint(tmp_path / "old", connector_model(tiny_llm, "mlp", llm=fresh()))
    with pytest.raises(InputError, match="trained with connector 'mlp'"):
        load_checkpoint(tmp_path / "old", connector_model(tiny_llm, "resampler", llm=fresh()))


def test_the_registry_and_the_settings_refuse_bad_values(tiny_llm):
    assert list(CONNECTORS) == ["mlp", "resampler", "xattn", "hybrid"]
    assert [line.split()[0] for line in connector_lines()] == list(CONNECTORS)
    with pytest.raises(ValueError, match="already registered as 'xattn'"):
        register("xattn", "again")(type("Again", (Connector,), {}))
    with pytest.raises(InputError, match="unknown connector 'qformer'; choose one of mlp, resampler, xattn, hybrid"):
        ModelConfig(connector="qformer")
    for bad in ({"queries": 0}, {"window": -1.0}, {"fps": 0.0}, {"layers": 0}):
        with pytest.raises(InputError, match="model.resampler"):
            ModelConfig(resampler=bad)
    for bad in ({"every": 0}, {"heads": 0}, {"ff_mult": -1}):
        with pytest.raises(InputError, match="model.xattn"):
            ModelConfig(xattn=bad)
    with pytest.raises(InputError, match="model.xattn.heads=3 must divide the LLM's hidden size 32"):
        connector_model(tiny_llm, "xattn", xattn=CrossAttentionConfig(heads=3))


def test_optimizer_leaves_gates_queries_and_stream_embeddings_undecayed(tiny_llm):
    from pretrain.optim import decay_groups

    model = connector_model(tiny_llm, "hybrid")
    decay, rest = decay_groups(model, 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    undecayed = {names[id(p)] for p in rest["params"]}
    assert {"connector.resampler.resamplers.pose.queries", "connector.xattn.stream_embed"} <= undecayed
    assert "connector.xattn.blocks.0.attn_gate" in undecayed
    assert "connector.xattn.blocks.0.attn.q.weight" in {names[id(p)] for p in decay["params"]}


@pytest.mark.parametrize("family", ["mistral", "qwen2", "lora"])
def test_cross_attention_hooks_into_other_llama_family_models(tiny_llm, family):
    import transformers

    _, tok = tiny_llm
    shape = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=3)
    shape |= dict(num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)
    if family == "lora":
        from peft import LoraConfig, get_peft_model

        llm = tiny_llama(tok)
        layers = decoder_layers(llm)
        llm = get_peft_model(llm, LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
        assert decoder_layers(llm) is layers
    else:
        classes = {"mistral": ("MistralConfig", "MistralForCausalLM"), "qwen2": ("Qwen2Config", "Qwen2ForCausalLM")}
        config, model_class = (getattr(transformers, name) for name in classes[family])
        torch.manual_seed(0)
        llm = model_class(config(**shape)).requires_grad_(False)
    model = connector_model(tiny_llm, "xattn", llm=llm, xattn=CrossAttentionConfig(every=2))
    assert model.connector.xattn.at == ([0, 2] if family != "lora" else [0])
    tasks, streams, masks = batch()
    model.eval()
    with torch.no_grad():
        closed = model.losses(tasks, streams, masks).total
        open_gates(model)
        opened = model.losses(tasks, streams, masks).total
    assert abs(float(opened - closed)) > 1e-4
    assert len(model.generate(tasks, streams, masks, max_new_tokens=3, num_beams=2)) == 3


def test_show_config_train_lists_the_connectors_one_line_each():
    import yaml
    from typer.testing import CliRunner

    from signllava.cli import app

    result = CliRunner().invoke(app, ["show-config", "train"])
    assert result.exit_code == 0, result.output
    listed = [line.split()[1] for line in result.output.splitlines() if line.startswith("#   ")]
    assert listed == list(CONNECTORS)
    config = yaml.safe_load(result.output)  # the listing is YAML comments: the output still loads as a config
    assert config["model"]["connector"] == "mlp" and config["model"]["xattn"]["every"] == 4


def test_answer_scores_read_the_frames_through_cross_attention(tiny_llm):
    from signllava.inference.answers import answer_logprobs

    model = connector_model(tiny_llm, "xattn")
    open_gates(model, 2.0)
    tasks, streams, masks = batch()
    other = {name: torch.randn_like(x) for name, x in streams.items()}
    with torch.no_grad():
        here, there = answer_logprobs(model, tasks, streams, masks), answer_logprobs(model, tasks, other, masks)
        logits, targets = model.answer_logits(tasks, streams, masks)
    assert (here - there).abs().max() > 1e-3  # the only sign of the clip in an xattn model is what the blocks read
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    assert torch.allclose(loss, model.losses(tasks, streams, masks).total.detach())
