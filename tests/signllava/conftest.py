"""Fixtures of signllava's tests: tiny models for the CPU (a 2-layer Llama built in code + the default
LLM's real tokenizer), small datasets, and a reachable SLURM controller for the `slurm` tests."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import torch

from pose.synth import SynthConfig, generate
from pretrain import FeatureStore
from signllava.data.streams import DataConfig, StreamInput
from signllava.data.tasks import Task
from signllava.model.build import TrainConfig, TrainOptim
from signllava.model.model import ModelConfig, SignLLaVA, StreamConfig


@pytest.fixture(scope="session")
def tokenizer_dir():
    from signllava.model.llm import DEFAULT_LLM, resolve

    return resolve(DEFAULT_LLM)  # converts the embedded GGUF once per cache folder


def tiny_llama(tokenizer, **overrides):
    """A 2-layer Llama with the tokenizer's vocabulary; large init weights so that a prefix of
    projected tokens visibly moves the loss within a few steps."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = dict(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        initializer_range=0.2,
    )
    llm = LlamaForCausalLM(LlamaConfig(**(config | overrides)))
    llm.requires_grad_(False)
    return llm


@pytest.fixture
def tiny_llm(tokenizer_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    tokenizer.pad_token = tokenizer.eos_token
    return tiny_llama(tokenizer), tokenizer


def batch(n=3, dims=None, lengths=(5, 3, 4)):
    """``(tasks, streams, masks)``: ``n`` translation tasks with random stream features of the given lengths."""
    dims = dims or {"pose": 8, "mae": 6}
    torch.manual_seed(1)
    tasks = [Task(f"s{i}", "translate", ["hello there", "good morning", "thank you"][i % 3]) for i in range(n)]
    streams, masks = {}, {}
    for name, d in dims.items():
        streams[name] = torch.randn(n, max(lengths), d)
        masks[name] = torch.arange(max(lengths))[None] < torch.tensor(lengths[:n])[:, None]
    return tasks, streams, masks


def make(tiny_llm, **stream_kwargs):
    """A SignLLaVA on the tiny LLM with two streams: pose (8 values, ``stream_kwargs``) and mae (6, linear)."""
    llm, tok = tiny_llm
    cfg = ModelConfig(llm="tiny", streams={"pose": StreamConfig(8, **stream_kwargs), "mae": StreamConfig(6, "linear")})
    return SignLLaVA(cfg, llm, tok)


HEADER = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n"
TEXTS = ["hello there", "good morning", "thank you", "see you later", "nice to meet you", "good night"]


@pytest.fixture(scope="session")
def llm_dir(tmp_path_factory, tokenizer_dir):
    """The tiny Llama saved as a local model folder, loaded through the real LLM loader."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    path = tmp_path_factory.mktemp("tiny-llm")
    tiny_llama(tokenizer, tie_word_embeddings=True).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture
def dataset(tmp_path):
    meta = tmp_path / "toy_train.csv"
    rows = [
        f"v{i // 3}\tv{i // 3}-1\tv{i // 3}_{i % 3}\tc{i}\t{i % 3}.0\t{i % 3}.5\t{t}\n" for i, t in enumerate(TEXTS)
    ]
    meta.write_text(HEADER + "".join(rows))
    rng = np.random.default_rng(0)
    with FeatureStore.writer(tmp_path / "store", "pose", "job0", dim=8) as w:
        for i in range(len(TEXTS)):
            w.add(f"c{i}", rng.standard_normal((4 + i, 8)))
    return DataConfig(metadata=[str(meta)], streams={"pose": StreamInput(store=str(tmp_path / "store"))})


def config(llm_dir, data, out, steps=6, **optim) -> TrainConfig:
    """A CPU training run of the tiny LLM (``llm_dir``) with one 8-value pose stream, logged at every step."""
    return TrainConfig(
        model=ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(8)}),
        data=data,
        optim=TrainOptim(max_steps=steps, batch_size=3, lr=3e-2, warmup_ratio=0.0, **optim),
        output_dir=str(out),
        device="cpu",
        log_every=1,
        save_every=100,
    )


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """A tiny synthsign dataset: full-video poses under poses_full/, sentence clips under poses/."""
    from pose.synth import SynthConfig, generate

    out = tmp_path_factory.mktemp("synth") / "s"
    generate(out, SynthConfig(size="tiny", seed=5, train_docs=1, val_docs=0, test_docs=1, progress=False))
    return out


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory, llm_dir):
    """A pose-stream checkpoint of the tiny LLM, trained for one step on random 208-value features."""
    from signllava.train import train

    root = tmp_path_factory.mktemp("ckpt")
    meta = root / "toy_train.csv"
    meta.write_text(
        "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n"
        + "".join(f"v\tv-1\tv_{i}\tc{i}\t{i}.0\t{i}.5\thello {i}\n" for i in range(3))
    )
    with FeatureStore.writer(root / "store", "pose", "job") as w:
        for i in range(3):
            w.add(f"c{i}", np.random.default_rng(i).standard_normal((6, 208)))
    cfg = TrainConfig(
        model=ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(208, stride=4)}),
        data=DataConfig(metadata=[str(meta)], streams={"pose": StreamInput(store=str(root / "store"))}),
        optim=TrainOptim(max_steps=1, batch_size=3),
        output_dir=str(root / "run"),
        device="cpu",
    )
    train(cfg, progress=False)
    return root / "run" / "last"


# --- SLURM: a reachable controller (else the `slurm` tests skip) and small training runs ---


def slurm_reachable() -> str:
    """'' when a SLURM controller answers with an idle or busy node, else why not."""
    if shutil.which("sinfo") is None:
        return "no SLURM client here (sinfo not found); CI starts one with slurm/cluster.sh"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo timed out: no SLURM controller reachable"
    if out.returncode != 0:
        why = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit code {out.returncode}"
        return f"no SLURM controller reachable ({why})"
    if not any(s.startswith(("idle", "mixed", "alloc")) for s in out.stdout.split()):
        return f"SLURM has no usable node (states: {out.stdout.split()})"
    return ""


@pytest.fixture(scope="session")
def slurm():
    why = slurm_reachable()
    if why:
        pytest.skip(why)


@pytest.fixture(scope="session")
def synth_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("slurm-synth") / "s"
    generate(out, SynthConfig(size="tiny", seed=0, documents=False, progress=False))
    return out


@pytest.fixture
def train_overrides(synth_data, llm_dir):  # noqa: F811
    """`--set` overrides of a tiny-LLM pose-stream training run on synthsign tiny (CPU, gloo)."""

    def make(out, steps: int, **extra) -> list[str]:
        settings = {
            "model.llm": llm_dir,
            "model.streams.pose.dim": 208,
            "model.streams.pose.stride": 4,
            "data.metadata": f"[{synth_data}/how2sign_realigned_train.csv]",
            "data.streams.pose.poses": str(synth_data / "poses"),
            "data.tasks.translate": 1.0,
            "data.tasks.sign_present": 0.0,
            "data.tasks.signs_present": 0.0,
            "data.tasks.reversed": 0.0,
            "optim.max_steps": steps,
            "optim.batch_size": 2,
            "optim.lr": 0.03,
            "optim.warmup_ratio": 0.0,
            "output_dir": str(out),
            "device": "cpu",
            "log_every": 1,
            "save_every": 100000,
        }
        return [f"{k}={v}" for k, v in (settings | extra).items()]

    return make
