from __future__ import annotations

import functools

import pytest
import torch

from pose.errors import InputError
from signllava.data.tasks import Task
from signllava.model import IGNORE, ModelConfig, SignLLaVA, StreamConfig
from signllava.projectors import StreamProjector, build_projector, pool_time
from signllava.prompts import SIGN, VIDEO_START


def batch(n=3, dims=None, lengths=(5, 3, 4)):
    dims = dims or {"pose": 8, "mae": 6}
    torch.manual_seed(1)
    tasks = [Task(f"s{i}", "translate", ["hello there", "good morning", "thank you"][i % 3]) for i in range(n)]
    streams, masks = {}, {}
    for name, d in dims.items():
        streams[name] = torch.randn(n, max(lengths), d)
        masks[name] = torch.arange(max(lengths))[None] < torch.tensor(lengths[:n])[:, None]
    return tasks, streams, masks


def make(tiny_llm, **stream_kwargs):
    llm, tok = tiny_llm
    cfg = ModelConfig(llm="tiny", streams={"pose": StreamConfig(8, **stream_kwargs), "mae": StreamConfig(6, "linear")})
    return SignLLaVA(cfg, llm, tok)


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


def test_projector_registry_and_pooling():
    assert isinstance(build_projector("linear", 4, 8), torch.nn.Linear)
    assert len(build_projector("mlp3x_gelu", 4, 8)) == 5
    x = torch.arange(12.0).view(1, 6, 2)
    mask = torch.tensor([[True, True, True, True, True, False]])
    pooled, pmask = pool_time(x, mask, "mean", 4)
    assert pooled.shape == (1, 2, 2) and pmask.tolist() == [[True, True]]
    assert torch.allclose(pooled[0, 1], x[0, 4])  # the padded frame is not averaged in
    strided, _ = pool_time(x, mask, "stride", 4)
    assert torch.equal(strided[0, 1], x[0, 4])


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


def test_answer_only_logits_give_the_full_loss(tiny_llm):
    model = make(tiny_llm)
    tasks, streams, masks = batch()
    enc = model.encode(tasks, streams, masks)
    full = model.llm(inputs_embeds=enc["inputs_embeds"], attention_mask=enc["attention_mask"], labels=enc["labels"])
    assert model.cached_llm.keeps_logits
    assert torch.allclose(model(tasks, streams, masks), full.loss, atol=1e-5)


def test_temporal_blocks_start_as_identity_and_see_neighbours_not_padding():
    torch.manual_seed(0)
    plain = StreamProjector(8, 16, stride=2)
    conv = StreamProjector(8, 16, stride=2, temporal=2)
    conv.proj.load_state_dict(plain.proj.state_dict())
    x = torch.randn(2, 12, 8)
    mask = torch.arange(12)[None] < torch.tensor([[12], [7]])
    assert torch.equal(conv(x, mask)[0], plain(x, mask)[0])  # zero-initialized output: a new block changes nothing
    for block in conv.temporal:
        torch.nn.init.normal_(block.out.weight, std=0.1)
    y, ymask = conv(x, mask)
    assert ymask.tolist() == [[True] * 6, [True] * 4 + [False] * 2]
    later = x.clone()
    later[:, 10:] += 5.0  # change only the last token's frames
    y2, _ = conv(later, mask)
    assert not torch.allclose(y2[0, 4], y[0, 4])  # a neighbour now sees it (kernel 5 over tokens)
    assert torch.equal(y2[1, :4], y[1, :4])  # in sample 2 those frames are padding: they leak nowhere
    with pytest.raises(InputError, match="temporal"):
        StreamProjector(8, 16, temporal=-1)


def test_shared_prompt_prefix_is_computed_once_with_the_same_loss_and_gradients(tiny_llm):
    model = make(tiny_llm)
    tasks, streams, masks = batch()
    tasks[1] = Task("s1", "translate", "good morning", context=("a much longer context sentence than the others",))
    enc = model.encode(tasks, streams, masks)
    prefix = model.cached_llm.shared_prefix(enc["input_ids"], enc["attention_mask"])
    first_learned = int((enc["input_ids"][0] >= model.vocab_size).nonzero()[0, 0])  # <video_start>
    assert 8 <= prefix <= first_learned
    results = []
    for shared in (True, False):
        model.cached_llm.min_shared_prefix = 8 if shared else 10**9
        model.zero_grad()
        loss = model(tasks, streams, masks)
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in model.parameters() if p.requires_grad]))
    (a, grads_a), (b, grads_b) = results
    assert torch.allclose(a, b, atol=1e-5)
    assert all(torch.allclose(x, y, atol=1e-5) for x, y in zip(grads_a, grads_b, strict=True))
    model.llm.get_input_embeddings().weight.requires_grad_(True)  # the LLM trains (as with LoRA): no sharing
    assert model.cached_llm.shared_prefix(enc["input_ids"], enc["attention_mask"]) == 0
    model.llm.get_input_embeddings().weight.requires_grad_(False)


def spy_on_generation(model, monkeypatch):
    """``(calls, finished)``: the (batch, length) of every LLM forward's ``inputs_embeds`` (None without),
    and the full output (sequences, beam scores) of every ``generate``; both filled as the model runs."""
    calls, finished = [], []
    forward, search = model.llm.forward, model.llm.generate

    @functools.wraps(forward)  # generate inspects the forward's parameters
    def counting_forward(*args, **kwargs):
        calls.append(kwargs["inputs_embeds"].shape[:2] if kwargs.get("inputs_embeds") is not None else None)
        return forward(*args, **kwargs)

    def keeping_generate(*args, **kwargs):
        out = search(*args, return_dict_in_generate=True, output_scores=True, **kwargs)
        finished.append(out)
        return out.sequences

    monkeypatch.setattr(model.llm, "forward", counting_forward)
    monkeypatch.setattr(model.llm, "generate", keeping_generate)
    return calls, finished


def test_beam_search_computes_each_prompt_once_with_the_same_answers(tiny_llm, monkeypatch):
    model = make(tiny_llm)
    tasks, streams, masks = batch()
    tasks[1] = Task("s1", "translate", "", context=("a longer context, so the prompts are left-padded",))
    calls, finished = spy_on_generation(model, monkeypatch)
    prompt = model.encode(tasks, streams, masks, with_answer=False)["inputs_embeds"].shape[1]
    answers = []
    for shared in (True, False):
        model.cached_llm.share_beam_prefill = shared
        calls.clear()
        answers.append(model.generate(tasks, streams, masks, max_new_tokens=5, num_beams=3))
        prefills = [c for c in calls if c is not None and c[1] > 1]
        # shared: the prompts but their last tokens once per sample, then one token per beam
        assert prefills == ([(3, prompt - 1)] if shared else [(9, prompt)])
    assert answers[0] == answers[1]
    assert torch.equal(finished[0].sequences, finished[1].sequences)
    assert torch.allclose(finished[0].sequences_scores, finished[1].sequences_scores, atol=1e-5)


def test_the_prompt_head_is_computed_once_across_calls_with_the_same_answers(tiny_llm, monkeypatch):
    model = make(tiny_llm)
    tasks, streams, masks = batch(n=2, lengths=(4, 4))  # equal lengths: no padding, both rows share the head
    calls, finished = spy_on_generation(model, monkeypatch)
    ids = model.encode(tasks, streams, masks, with_answer=False)["input_ids"]
    prompt, head = ids.shape[1], int((ids[0] >= model.vocab_size).nonzero()[0, 0])
    assert head >= model.cached_llm.min_shared_prefix
    results = {}
    for keep in (False, True):
        model.cached_llm.keep_prompt_head, model.cached_llm._head = keep, None
        for beams in (1, 3):
            model.generate(tasks, streams, masks, max_new_tokens=5, num_beams=beams)  # the first call computes it
            calls.clear()
            answers = model.generate(tasks, streams, masks, max_new_tokens=5, num_beams=beams)
            prefills = [c for c in calls if c is not None and c[1] > 1]
            rest = prompt - head if keep else prompt
            assert prefills == [(2, rest - 1)] if beams > 1 else [(2, rest)]  # the head is not computed again
            results[keep, beams] = answers, finished[-1]
    for beams in (1, 3):
        (a, x), (b, y) = results[False, beams], results[True, beams]
        assert a == b and torch.equal(x.sequences, y.sequences)
        if beams > 1:
            assert torch.allclose(x.sequences_scores, y.sequences_scores, atol=1e-5)
    weight = next(model.llm.parameters())
    weight.requires_grad_(True)  # an LLM that trains: its keys and values change
    try:
        assert model.cached_llm.head_cache(ids, torch.ones_like(ids)) == (None, 0)
    finally:
        weight.requires_grad_(False)


def test_a_head_that_covers_all_but_the_last_token_is_the_beams_whole_prefill(tiny_llm):
    model = make(tiny_llm)
    model.cached_llm.keep_prompt_head = True
    ids = model.tokenizer(" ".join(["plain text with no sign streams"] * 4), return_tensors="pt")["input_ids"]
    ids = ids.repeat(2, 1)  # two samples, the same text
    attention = torch.ones_like(ids)
    embeds = model.llm.get_input_embeddings()(ids)
    head, start = model.cached_llm.head_cache(ids, attention)
    # no stream: the head is all but the last token
    assert start == ids.shape[1] - 1 >= model.cached_llm.min_shared_prefix
    shared = model.cached_llm.prefill_for_beams(embeds, attention, 3, head, start)
    plain = model.cached_llm.prefill_for_beams(embeds, attention, 3)  # computed without the head
    assert len(shared.layers) == len(plain.layers)
    for a, b in zip(shared.layers, plain.layers, strict=True):
        assert a.keys.shape[0] == 6 and a.keys.shape == b.keys.shape  # 2 samples x 3 beams, sample-major
        assert torch.allclose(a.keys, b.keys, atol=1e-5) and torch.allclose(a.values, b.values, atol=1e-5)
