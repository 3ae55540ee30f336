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


def test_a_damaged_weight_file_in_an_llm_folder_is_one_line_naming_it(tmp_path, tokenizer_dir):
    import shutil

    from pose.errors import InputError
    from signllava.model.llm import DEFAULT_LLM, _weights_fix, load_llm
    from tests.pretrain.test_runtime import damage

    folder = tmp_path / "llm"
    shutil.copytree(tokenizer_dir, folder)
    damage(folder / "model.safetensors", "truncated")
    with pytest.raises(InputError, match=f"{folder / 'model.safetensors'}: damaged weight file: cut short"):
        load_llm(str(folder))
    # the default LLM's copy is a cache of ours: made again from the GGUF once removed
    assert (
        _weights_fix(DEFAULT_LLM, str(folder))
        == f"remove the cached copy {folder} and it is converted again from the GGUF"
    )
