"""Loading the LLM: float16 weights for CPU inference, and where they cannot be used."""

from __future__ import annotations

import pytest


def test_half_weights_are_left_alone_without_fbgemm(monkeypatch):
    import torch

    from signllava.model.llm import half_weight_linears

    layer = torch.nn.Sequential(torch.nn.Linear(4, 4))
    monkeypatch.setattr(torch.backends.quantized, "engine", "qnnpack")  # as on an ARM CPU
    assert not half_weight_linears(layer) and type(layer[0]) is torch.nn.Linear


def test_half_weights_are_left_alone_without_torch_ao_quantization(monkeypatch):
    import sys

    import torch

    from signllava.model.llm import half_weight_linears

    if "x86" not in torch.backends.quantized.supported_engines:
        pytest.skip("no x86 quantized engine in this PyTorch build")
    layer = torch.nn.Sequential(torch.nn.Linear(4, 4))
    monkeypatch.setattr(torch.backends.quantized, "engine", "x86")  # fbgemm is there ...
    monkeypatch.setitem(sys.modules, "torch.ao.quantization", None)  # ... the module is not: import fails
    assert not half_weight_linears(layer) and type(layer[0]) is torch.nn.Linear
