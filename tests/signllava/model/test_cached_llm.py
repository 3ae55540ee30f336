"""The frozen LLM's reused keys and values: a shared prompt prefix in training, the prompt head across
calls and each prompt once per beam in generation, all with the same loss, gradients and answers."""

from __future__ import annotations

import functools

import torch

from signllava.data.tasks import Task
from tests.signllava.conftest import batch, make


def test_answer_only_logits_give_the_full_loss(tiny_llm):
    model = make(tiny_llm)
    tasks, streams, masks = batch()
    enc = model.encode(tasks, streams, masks)
    full = model.llm(inputs_embeds=enc["inputs_embeds"], attention_mask=enc["attention_mask"], labels=enc["labels"])
    assert model.cached_llm.keeps_logits
    assert torch.allclose(model(tasks, streams, masks), full.loss, atol=1e-5)


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
