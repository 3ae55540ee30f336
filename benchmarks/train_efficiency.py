"""Training-step efficiency: our full step vs the bare frozen-LLM forward+backward, same tokens.

Our step = collate a batch from a SignDataset (in-memory features), project the streams, splice
them into the text embeddings, frozen LLM forward and backward into the projectors (stage 1), or
with LoRA (stage 2), and the optimizer step. The peer, in the same process on identical batch
shapes: the bare LLM forward+backward on ``inputs_embeds`` with gradients to the input embeddings
(what any projector-into-a-frozen-LLM method must pay). Prints tokens/s of both, the ratio, model
FLOPs utilization (4 x parameters x tokens: forward plus backward through activations, no weight
gradients), and peak GPU memory. Random weights of the real shape are enough for speed.

    python benchmarks/train_efficiency.py --shape llama3-8b --device cuda --batch 8 --frames 512 --stage 1
    python benchmarks/train_efficiency.py --shape tiny --device cpu --batch 2 --frames 64   # CPU smoke
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from signllava.data.dataset import FeatureSource, SignCollator, SignDataset
from signllava.data.how2sign import Sentence
from signllava.data.tasks import TaskBuilder, TaskWeights
from signllava.model.llm import DEFAULT_LLM, resolve
from signllava.model.model import ModelConfig, SignLLaVA, StreamConfig

SHAPES = {  # hidden, intermediate, layers, heads, kv heads, vocab
    "tiny": (256, 688, 4, 4, 2, 49152),
    "smollm2-135m": (576, 1536, 30, 9, 3, 49152),
    "llama3-8b": (4096, 14336, 32, 32, 8, 128256),
}
PEAK_TFLOPS = {"cuda": 989.0}  # H100 / H200 SXM dense bf16


def build(shape: str, device: torch.device, stage: int, tokenizer: str | None = None):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    hidden, inter, layers, heads, kv, vocab = SHAPES[shape]
    tokenizer = AutoTokenizer.from_pretrained(tokenizer or resolve(DEFAULT_LLM))
    tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    config = LlamaConfig(
        hidden_size=hidden,
        intermediate_size=inter,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        vocab_size=vocab,
        max_position_embeddings=8192,
        attn_implementation="sdpa",
    )
    with torch.device(device):
        llm = LlamaForCausalLM(config).to(dtype)
    llm.requires_grad_(False)
    streams = {"pose": StreamConfig(208, stride=1), "sign2vec": StreamConfig(768, stride=1)}
    model = SignLLaVA(ModelConfig(llm=shape, streams=streams), llm, tokenizer).to(dtype=dtype)
    if stage == 2:
        from peft import LoraConfig, get_peft_model

        model.llm = get_peft_model(
            model.llm,
            LoraConfig(
                r=64,
                lora_alpha=16,
                lora_dropout=0.05,
                target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
            ),
        )
    return model, sum(p.numel() for p in llm.parameters())


def dataset(batch: int, frames: int) -> SignDataset:
    rng = np.random.default_rng(0)
    sentences = [
        Sentence(f"v{i}", f"v{i}", f"s{i}", f"s{i}", 0, 1, "I went to the store yesterday with my friend.")
        for i in range(batch * 4)
    ]
    stores = {
        name: {s.sentence_name: rng.standard_normal((frames, dim)).astype(np.float16) for s in sentences}
        for name, dim in (("pose", 208), ("sign2vec", 768))
    }
    only_translate = TaskWeights(translate=1, sign_present=0, signs_present=0, reversed=0)
    return SignDataset(
        sentences, {n: FeatureSource(s) for n, s in stores.items()}, TaskBuilder(sentences, weights=only_translate)
    )


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=list(SHAPES), default="tiny")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=448, help="frames per stream per sample (1 token each)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--stage", type=int, choices=(1, 2), default=1)
    parser.add_argument("--tokenizer", help="a tokenizer folder (default: the embedded LLM's, from its GGUF)")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    model, n_params = build(args.shape, device, args.stage, args.tokenizer)
    data = dataset(args.batch, args.frames)
    collate = SignCollator(pad_to_multiple_of=8)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    batches = [collate([data[i] for i in range(b * args.batch, (b + 1) * args.batch)]) for b in range(4)]

    def ours(i: int) -> int:
        batch = collate([data[j] for j in range(i % 4 * args.batch, (i % 4 + 1) * args.batch)])  # data cost included
        loss = model.losses(batch["tasks"], batch["streams"], batch["stream_mask"])
        loss.total.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.tokens

    # the peer gets exactly our batches' shapes, attention masks and label masks (same LM-head work)
    encoded = []
    with torch.no_grad():
        for b in batches:
            e = model.encode(b["tasks"], b["streams"], b["stream_mask"])
            encoded.append((e["inputs_embeds"].detach(), e["attention_mask"], e["labels"]))

    def bare(i: int) -> int:
        embeds, attention, labels = encoded[i % 4]
        embeds = embeds.clone().requires_grad_(True)  # gradients to the input embeddings, as ours needs
        out = model.llm(inputs_embeds=embeds, attention_mask=attention, labels=labels, use_cache=False)
        out.loss.backward()
        return int(attention.sum())

    results = {}
    for name, fn in (("bare LLM fwd+bwd", bare), (f"ours (stage {args.stage})", ours)):
        for i in range(args.warmup):
            fn(i)
        sync(device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        start, tokens = time.perf_counter(), 0
        for i in range(args.steps):
            tokens += fn(i)
        sync(device)
        seconds = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
        results[name] = (tokens / seconds, peak)
    print(
        f"shape {args.shape} ({n_params / 1e9:.2f} B params), device {device}, batch {args.batch}, "
        f"~{encoded[0][1].shape[1]} tokens/sample, {args.steps} steps"
    )
    for name, (tps, peak) in results.items():
        tflops = 4 * n_params * tps / 1e12
        mfu = f", MFU {100 * tflops / PEAK_TFLOPS[device.type]:.1f}%" if device.type in PEAK_TFLOPS else ""
        print(f"{name:22s} {tps:10.0f} tokens/s  {tflops:7.2f} TFLOP/s{mfu}  peak {peak:.1f} GiB")
    (bare_tps, _), (ours_tps, _) = results.values()
    print(f"ratio ours / bare: {ours_tps / bare_tps:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
