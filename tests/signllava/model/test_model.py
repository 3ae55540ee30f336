from __future__ import annotations

import pytest
import torch

from pose.errors import InputError
from signllava.model.model import IGNORE, ModelConfig, SignLLaVA, StreamConfig
from signllava.model.prompts import SIGN, VIDEO_START
from tests.signllava.conftest import batch, make


def test_only_projectors_and_delimiters_train(tiny_llm):
    model = make(tiny_llm)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("projectors.", "delimiters")) for n in trainable)
    assert set(model.trainable_state()) == {n for n, _ in model.named_parameters() if not n.startswith("llm.")}


def test_placeholders_labels_and_splice(tiny_llm):
    model = make(tiny_llm, pool="mean", stride=2)
    tasks, streams, masks = batch()
    enc = model.encode(tasks, streams, masks)
    ids, labels = enc["input_ids"], enc["labels"]
    # pose: ceil(5/2), ceil(3/2), ceil(4/2) tokens; mae: 5, 3, 4 tokens (no pooling)
    assert (ids == model.sign_id).sum(1).tolist() == [3 + 5, 2 + 3, 2 + 4]
    # one per stream, plus the system prompt, which names the markers (and so shows their vectors)
    assert (ids == model.start_id).sum(1).tolist() == [3, 3, 3]
    for b, task in enumerate(tasks):
        answer = labels[b][labels[b] != IGNORE]
        text = model.tokenizer.decode(answer)
        assert text.startswith(task.answer) and "<|im_end|>" in text  # the model learns to stop
        assert (labels[b][ids[b] == model.sign_id] == IGNORE).all()
    embeds = enc["inputs_embeds"]
    assert torch.allclose(embeds[ids == model.start_id], model.delimiters[0].expand(9, -1))


def test_gloss_prompt_shows_the_glosses_the_first_streams_head_recognizes(tiny_llm):
    llm, tok = tiny_llm
    streams = {"pose": StreamConfig(8), "mae": StreamConfig(6, "linear")}
    model = SignLLaVA(ModelConfig(llm="tiny", streams=streams, glosses=["A", "B", "C"], gloss_prompt=True), llm, tok)
    tasks, feats, masks = batch()
    with torch.no_grad():  # the pose head says "C" on every token, the mae head "A"
        for name, best in (("pose", 3), ("mae", 1)):
            model.gloss_heads[name].weight.zero_()
            model.gloss_heads[name].bias.zero_()
            model.gloss_heads[name].bias[best] = 10.0
    assert model.recognize(feats, masks) == {"pose": [["C"]] * 3, "mae": [["A"]] * 3}
    for with_answer in (True, False):
        ids = model.encode(tasks, feats, masks, with_answer=with_answer)["input_ids"]
        for row in ids:
            text = tok.decode(row[row < model.vocab_size])
            assert "Signs recognized in the video: C.\nTranslate" in text
    model.config.gloss_prompt = False
    assert "recognized" not in tok.decode(model.encode(tasks, feats, masks)["input_ids"][0])
    with pytest.raises(InputError, match="gloss_prompt needs a gloss vocabulary"):
        SignLLaVA(ModelConfig(llm="tiny", streams=streams, gloss_prompt=True), llm, tok)


def test_loss_decreases(tiny_llm):
    model = make(tiny_llm)
    tasks, streams, masks = batch()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-2)
    losses = []
    for _ in range(30):
        loss = model(tasks, streams, masks)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.8
    assert all(p.grad is None for p in model.llm.parameters())


def test_generate_returns_text(tiny_llm):
    model = make(tiny_llm)
    tasks, streams, masks = batch()
    out = model.generate(tasks, streams, masks, max_new_tokens=4)
    assert len(out) == 3 and all(isinstance(t, str) for t in out)
    assert SIGN not in "".join(out) and VIDEO_START not in "".join(out)


def test_generate_answers_are_one_line(tiny_llm, monkeypatch):
    model = make(tiny_llm)
    newline = model.tokenizer.encode("\n", add_special_tokens=False)
    assert len(newline) == 1 and newline[0] in model.stop_ids()  # generation stops at a line break
    tasks, streams, masks = batch()
    decoded = [" The staff meets your brother\nA: Your brother meets the staff", "Yes.", "\nNo.\n"]
    monkeypatch.setattr(model.tokenizer, "batch_decode", lambda *a, **k: decoded)
    assert model.generate(tasks, streams, masks, max_new_tokens=2) == ["The staff meets your brother", "Yes.", "No."]


def test_rms_output_norm_matches_text_scale(tiny_llm):
    llm, tok = tiny_llm
    cfg = ModelConfig(llm="tiny", streams={"pose": StreamConfig(8, out_norm="rms")})
    model = SignLLaVA(cfg, llm, tok)
    tasks, streams, masks = batch(dims={"pose": 8})
    tokens, mask = model.project({"pose": streams["pose"] * 100}, {"pose": masks["pose"]})["pose"]
    text = llm.get_input_embeddings().weight
    ratio = tokens[mask].norm(dim=-1).mean() / text.norm(dim=-1).mean()
    assert 0.5 < float(ratio) < 2.0  # even for inputs 100x too large
    plain = SignLLaVA(ModelConfig(llm="tiny", streams={"pose": StreamConfig(8)}), llm, tok)
    assert "projectors.pose.norm.weight" in model.trainable_state()
    assert "projectors.pose.norm.weight" not in plain.trainable_state()
