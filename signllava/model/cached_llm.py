"""The frozen LLM called so that the keys and values of text several sequences share are computed once.

Three reuses, each exact (the same loss, gradients and answers as without it, tested):

* training: the system prompt and chat-template head every sample of a batch starts with is computed once,
  without gradients, for the whole batch (:meth:`CachedLLM.answer_logits`);
* inference: that head is kept across calls while its tokens stay the same (:meth:`CachedLLM.head_cache`);
* beam search: each prompt is computed once, not once per beam (:meth:`CachedLLM.prefill_for_beams`).

Which forward and ``generate`` argument takes a cache, and whether the forward takes ``logits_to_keep``,
changed across transformers versions: :class:`CachedLLM` asks the LLM's signature once, at first use.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable

import torch
from torch import nn


class CachedLLM:
    """Holds (never subclasses) a causal LM and reuses its KV caches; ``learned_from``: the first of
    SignLLaVA's own token ids (its tokenizer adds them last; each is a learned embedding, which needs
    gradients, and cross-attention reads the frames from a stream's delimiter on). It is the size of
    the LLM's embedding table, unless that table is padded past the tokenizer."""

    min_shared_prefix = 8  # tokens; a shorter shared prefix is not worth a second LLM call
    share_beam_prefill = True  # compute each prompt once, not once per beam (:meth:`prefill_for_beams`)
    keep_prompt_head = True  # compute the prompts' common text head once, not at every call (:meth:`head_cache`)

    def __init__(self, llm: Callable[[], nn.Module], learned_from: int):
        # a getter, read at every use: the owner's LLM is replaced after construction (peft's wrapper,
        # merge_and_unload, half_weight_linears), and this must always call the current one
        self._get_llm = llm
        self.learned_from = learned_from
        self._head: tuple[tuple[int, ...], object] | None = None  # prompt head tokens and their KV cache

    @property
    def llm(self) -> nn.Module:
        return self._get_llm()

    # --- what this LLM's transformers version takes ----------------------------------------------

    @property
    def llm_trains(self) -> bool:
        """Whether any LLM weight trains (LoRA): then a prompt's keys and values change with it."""
        return any(p.requires_grad for p in self.llm.parameters())

    @property
    def base_llm(self) -> nn.Module:
        """The LLM itself, under a peft wrapper if there is one (whose forward hides the parameters)."""
        return self.llm.get_base_model() if hasattr(self.llm, "get_base_model") else self.llm

    @functools.cached_property
    def cache_argument(self) -> str:
        """The forward argument that takes a KV cache: ``cache`` (transformers >= 5.2x) or ``past_key_values``."""
        return "cache" if "cache" in inspect.signature(self.base_llm.forward).parameters else "past_key_values"

    @functools.cached_property
    def keeps_logits(self) -> bool:
        """Whether the LLM's forward takes ``logits_to_keep`` (current transformers causal LMs do);
        asked once, at the first training step (after any LoRA wrapping), not at every step."""
        return "logits_to_keep" in inspect.signature(self.base_llm.forward).parameters

    @functools.cached_property
    def generate_cache_argument(self) -> str:
        """The ``generate`` argument that takes a KV cache to continue from (asked once)."""
        takes = inspect.signature(self.base_llm.prepare_inputs_for_generation).parameters
        return "cache" if "cache" in takes else "past_key_values"

    # --- training ----------------------------------------------------------------------------------

    def answer_logits(
        self, input_ids: torch.Tensor, embeds: torch.Tensor, attention: torch.Tensor, keep: torch.Tensor
    ) -> torch.Tensor:
        """Float32 logits ``(B, K, V)`` at the ``(K,)`` positions ``keep`` of a right-padded training batch
        (``input_ids`` and ``attention`` ``(B, L)``, ``embeds`` ``(B, L, H)``), only those computed where
        the LLM allows, with the :meth:`shared_prefix` computed once for the batch."""
        prefix = self.shared_prefix(input_ids, attention)
        cache = {}
        if prefix:
            # the system prompt and chat-template head are the same text in every sample, and the frozen LLM
            # maps them to the same keys and values: computed once, without gradients, for the whole batch
            with torch.no_grad():
                past = self.repeated_cache(embeds[:1, :prefix], len(embeds))
            cache = {self.cache_argument: past, "use_cache": True}
            embeds, keep = embeds[:, prefix:], keep - prefix  # positions after the prefix
        extra = {"logits_to_keep": keep} if self.keeps_logits else {}
        if not cache:
            extra["use_cache"] = False
        out = self.llm(inputs_embeds=embeds, attention_mask=attention, **cache, **extra)
        return (out.logits if "logits_to_keep" in extra else out.logits[:, keep]).float()  # (B, K, V)

    def shared_prefix(self, input_ids: torch.Tensor, attention: torch.Tensor) -> int:
        """Length of the token prefix that every sample shares and the LLM can compute once for the batch.

        It must end before the first learned embedding (``<video_start>``: it needs gradients) and is 0
        (no sharing) when the LLM itself trains (LoRA: the prefix's keys and values need gradients too),
        when it is shorter than ``min_shared_prefix`` or the batch holds one sample. With SmolLM2's chat
        template and our system prompt that is 38 of the ~130 tokens of a translation sample.
        """
        if len(input_ids) < 2 or self.llm_trains:
            return 0
        if self.llm.training and getattr(self.llm, "is_gradient_checkpointing", False):
            return 0  # checkpointed layers drop a passed cache
        same = (input_ids == input_ids[:1]).all(0) & attention.bool().all(0) & (input_ids[0] < self.learned_from)
        differs = (~same).nonzero()
        length = int(differs[0, 0]) if len(differs) else input_ids.shape[1] - 1
        length = min(length, input_ids.shape[1] - 1)  # at least one token left to compute with gradients
        return length if length >= self.min_shared_prefix else 0

    # --- generation --------------------------------------------------------------------------------

    def generate_cache(
        self, input_ids: torch.Tensor, embeds: torch.Tensor, attention: torch.Tensor, num_beams: int
    ) -> dict:
        """The cache argument (none: ``{}``) to hand ``generate`` for a left-padded batch of prompts:
        the kept prompt head (:meth:`head_cache`), continued by the beams' shared prefill
        (:meth:`prefill_for_beams`) in a beam search."""
        head, start = self.head_cache(input_ids, attention)
        if num_beams > 1 and embeds.shape[1] > 1 and self.share_beam_prefill:
            return {self.generate_cache_argument: self.prefill_for_beams(embeds, attention, num_beams, head, start)}
        if head is not None:
            return {self.generate_cache_argument: head}  # generate prefills the rest of the prompt
        return {}

    def head_cache(self, input_ids: torch.Tensor, attention: torch.Tensor):
        """``(cache, n)``: a fresh copy of the KV cache of the text every prompt of the batch starts with
        (system prompt and chat template up to the first stream: 38 tokens with SmolLM2), one row per
        sample, and its length; ``(None, 0)`` for a padded batch, one whose rows start differently, or
        an LLM that trains (its keys and values change). It is computed once and kept while the head's
        tokens stay the same: ``translate`` and ``ask`` then prefill only what follows it."""
        if not self.keep_prompt_head or self.llm_trains or not bool(attention.all()):
            return None, 0
        ids = input_ids[0]
        streams = (ids >= self.learned_from).nonzero()
        n = min(int(streams[0, 0]) if len(streams) else len(ids), len(ids) - 1)
        if n < self.min_shared_prefix or not bool((input_ids[:, :n] == ids[:n]).all()):
            return None, 0
        key = tuple(ids[:n].tolist())
        if self._head is None or self._head[0] != key:
            self._head = (key, self.repeated_cache(self.llm.get_input_embeddings()(ids[None, :n]), 1))
        cache = copy.deepcopy(self._head[1])  # generate extends the cache it is given
        if len(input_ids) > 1:
            cache.batch_repeat_interleave(len(input_ids))
        return cache, n

    def prefill_for_beams(
        self, embeds: torch.Tensor, attention: torch.Tensor, num_beams: int, head=None, start: int = 0
    ):
        """The KV cache of every prompt but its last token, computed once per sample and repeated for
        its ``num_beams`` beams (sample-major, as ``generate`` expands its inputs). Handed to
        ``generate``, it leaves it one token per beam to prefill: beam search otherwise computes each
        prompt once per beam (5 beams: ~3.8x the prefill time of one, about a third of the whole
        search for a sentence clip). Positions follow the left padding as ``generate``'s do. ``head``:
        the cache of the prompts' first ``start`` tokens (:meth:`head_cache`), continued from."""
        head_mask = attention[:, :-1]
        positions = (head_mask.long().cumsum(-1) - 1).masked_fill(head_mask == 0, 0)
        if head is not None and start >= head_mask.shape[1]:  # nothing between the head and the last token
            head.batch_repeat_interleave(num_beams)
            return head
        return self.repeated_cache(
            embeds[:, start:-1], num_beams, past=head, attention_mask=head_mask, position_ids=positions[:, start:]
        )

    def repeated_cache(self, embeds: torch.Tensor, repeats: int, past=None, **forward):
        """The LLM's KV cache of ``embeds`` (the vocabulary head skipped where the LLM allows: only the
        keys and values matter), continuing ``past`` if given, each row repeated ``repeats`` times
        (sample-major)."""
        skip_head = {"logits_to_keep": 1} if self.keeps_logits else {}
        if past is not None:
            forward[self.cache_argument] = past
        out = self.llm(inputs_embeds=embeds, use_cache=True, **skip_head, **forward)
        past = getattr(out, "cache", None)
        past = out.past_key_values if past is None else past
        past.batch_repeat_interleave(repeats)
        return past
