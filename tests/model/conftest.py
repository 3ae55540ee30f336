"""Tiny models for CPU tests: a 2-layer Llama built in code + the default LLM's real tokenizer."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def tokenizer_dir():
    from signllava.llm import DEFAULT_LLM, resolve

    return resolve(DEFAULT_LLM)  # converts the embedded GGUF once per cache folder


@pytest.fixture
def tiny_llm(tokenizer_dir):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    tokenizer.pad_token = tokenizer.eos_token
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        initializer_range=0.2,
    )  # large weights: the prefix visibly moves the loss
    llm = LlamaForCausalLM(config)
    llm.requires_grad_(False)
    return llm, tokenizer
