"""SignLLaVA: per-stream projectors, a connector and learned stream delimiters around a frozen causal LM.

The model composes the LLM (never subclasses it) and calls it with ``inputs_embeds``: the prompt
is tokenized with ``<sign>`` placeholders, the LLM's own embedding table embeds the text, and
:func:`~signllava.model.splice.splice` puts the connector's sign tokens and the two learned delimiter
vectors in place. The connector (:mod:`signllava.model.connectors`, ``model.connector``) decides what of the
projected frames enters the sequence (``mlp``: all of them) and what the LLM reads beside it
(``xattn`` / ``hybrid``: gated cross-attention on the frames). The LLM's vocabulary is never
resized: the three special tokens get ids past its embedding table and are always replaced before
the LLM sees them. Works for any causal LM.
The LLM's keys and values are reused where sequences share text (:mod:`signllava.model.cached_llm`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn

from pose.errors import InputError

from ..data.languages import language
from ..data.tasks import Task
from .cached_llm import CachedLLM
from .connectors import CrossAttentionConfig, ResamplerConfig, build_connector, check_name
from .projectors import StreamProjector
from .prompts import SIGN, SPECIAL_TOKENS, VIDEO_END, VIDEO_START, render_prompt
from .splice import splice

IGNORE = -100


class Losses(NamedTuple):
    """One training batch's loss and what is logged of it."""

    total: torch.Tensor  # the scalar to backpropagate: translation loss (+ weighted gloss CTC)
    parts: dict[str, float]  # its detached parts: lm, and ctc when the gloss loss is on
    tokens: int  # tokens the LLM read (prompt + answer, padding excluded), for tokens/s


@dataclass
class StreamConfig:
    """One input stream of the model."""

    dim: int  # per-frame feature size (pose 208, sign2vec 768, dino 1152, mae 768)
    projector: str = "mlp2x_gelu"  # linear or mlpNx_gelu
    pool: str = "mean"  # temporal pooling: none, mean or stride
    stride: int = 1  # frames per LLM token
    out_norm: str = "none"  # "rms": sign tokens RMS-normalized to the text embeddings' scale (learned gain)
    temporal: int = 0  # residual temporal convolution blocks (kernel 5) after the projector; 0 = none


@dataclass
class ModelConfig:
    """The trainable part of SignLLaVA and the LLM it is made for."""

    llm: str = "smollm2-135m"  # Hugging Face id, local path, or the embedded default
    streams: dict[str, StreamConfig] = field(default_factory=lambda: {"pose": StreamConfig(dim=208)})
    max_length: int = 2048  # prompt + answer tokens; longer samples are refused with a clear error
    # gloss vocabulary of the CTC recognition head on each stream's sign tokens (train.ctc > 0 fills it from
    # the training data); empty: no head. The head trains the projectors; answers use it only with gloss_prompt.
    glosses: list[str] = field(default_factory=list)
    # show the LLM, as a line of text after the streams, the glosses the first stream's CTC head recognizes
    # (greedy): a sign -> gloss -> text cascade inside the one prompt, in training and inference alike, for
    # data with glosses. The LLM reads a gloss it is told far more surely than the same sign in the sign
    # tokens, where its language prior can outvote a rare sign (see signllava/recipes/default.yaml).
    gloss_prompt: bool = False
    # how the projected streams reach the LLM: mlp (in the sequence), resampler, xattn or hybrid
    # (signllava/connectors; `signllava show-config train` lists them)
    connector: str = "mlp"
    # the language pair its prompts name (signllava.data.languages: asl-en, dgs-de, csl-zh); empty: asl-en, or
    # for training, the pair the data's dataset declares
    language: str = ""
    resampler: ResamplerConfig = field(default_factory=ResamplerConfig)  # of connectors resampler and hybrid
    xattn: CrossAttentionConfig = field(default_factory=CrossAttentionConfig)  # of connectors xattn and hybrid

    def __post_init__(self):
        if not self.streams:
            raise InputError(None, "config value streams is empty: the model needs at least one stream")
        for name, stream in self.streams.items():
            if isinstance(stream, Mapping):
                self.streams[name] = StreamConfig(**stream)
        check_name(self.connector)
        language(self.language)  # an unknown pair is refused here, before an LLM loads
        if isinstance(self.resampler, Mapping):
            self.resampler = ResamplerConfig(**self.resampler)
        if isinstance(self.xattn, Mapping):
            self.xattn = CrossAttentionConfig(**self.xattn)


class SignLLaVA(nn.Module):
    """Projectors, connector and delimiters (trainable) around a frozen LLM (``llm``) and its tokenizer."""

    def __init__(self, config: ModelConfig, llm: nn.Module, tokenizer):
        super().__init__()
        self.config = config
        self.language = language(config.language)
        self.llm = llm
        self.tokenizer = tokenizer
        tokenizer.add_special_tokens({"additional_special_tokens": list(SPECIAL_TOKENS)})
        self.sign_id, self.start_id, self.end_id = (
            tokenizer.convert_tokens_to_ids(t) for t in (SIGN, VIDEO_START, VIDEO_END)
        )
        embed = llm.get_input_embeddings()
        self.vocab_size, hidden = embed.weight.shape
        with torch.no_grad():  # typical per-dimension scale of the LLM's own token embeddings
            text_rms = float(embed.weight.float().pow(2).mean().sqrt())
        self.projectors = nn.ModuleDict(
            {
                name: StreamProjector(s.dim, hidden, s.projector, s.pool, s.stride, s.out_norm, text_rms, s.temporal)
                for name, s in config.streams.items()
            }
        )
        with torch.no_grad():  # new token embeddings start at the mean of the existing ones
            mean = embed.weight.float().mean(0)
        self.delimiters = nn.Parameter(torch.stack([mean, mean]).clone())  # (2, H): start, end
        # CTC gloss heads (class 0 = blank): recognizing the signs from the sign tokens themselves is a
        # direct signal for the projectors, where the translation loss reaches them only through the LLM
        self.gloss_index = {g: i + 1 for i, g in enumerate(config.glosses)}
        self.gloss_heads = nn.ModuleDict(
            {name: nn.Linear(hidden, len(config.glosses) + 1) for name in config.streams} if config.glosses else {}
        )
        if config.gloss_prompt and not config.glosses:
            raise InputError(None, "config value gloss_prompt needs a gloss vocabulary: set model.glosses or ctc > 0")
        # built last: mlp adds no parameter, and the others draw their initialization after everything above
        self.connector = build_connector(config, hidden, text_rms, llm)
        # the LLM's KV caches reused where sequences share text (training batches, calls, beams); it reads
        # ``self.llm`` at every use, which build.attach and load_trained replace after construction
        self.cached_llm = CachedLLM(
            functools.partial(getattr, self, "llm"), min(self.sign_id, self.start_id, self.end_id)
        )
        self.to(device=embed.weight.device)

    # --- state ---------------------------------------------------------------------------------

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """Only what training changes: projectors, connector, delimiters, and LoRA weights if any."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("llm.") or "lora_" in k}

    def no_weight_decay(self) -> set[str]:
        """Parameters the optimizer does not decay (:func:`pretrain.optim.decay_groups`): the delimiter
        embeddings are token embeddings, not a weight matrix; nor the connector's queries and stream embeddings."""
        return {"delimiters"} | {f"connector.{n}" for n in self.connector.no_weight_decay()}

    @property
    def device(self) -> torch.device:
        return self.delimiters.device

    # --- inputs --------------------------------------------------------------------------------

    def project(self, streams: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor]):
        """Projected frames per stream, the connector's input: ``{name: ((B, T', H), (B, T') mask)}``."""
        missing = [n for n in self.projectors if n not in streams]
        if missing:
            raise InputError(None, f"the batch lacks stream(s) {', '.join(missing)} that this model was built for")
        out = {}
        for name, projector in self.projectors.items():
            x = streams[name].to(self.device, dtype=self.delimiters.dtype)
            out[name] = projector(x, masks[name].to(self.device))
        return out

    def encode(
        self,
        tasks: Sequence[Task],
        streams: Mapping[str, torch.Tensor],
        masks: Mapping[str, torch.Tensor],
        with_answer: bool = True,
    ) -> dict[str, torch.Tensor]:
        """Tokenize prompts (+ answers) and build ``inputs_embeds``, ``attention_mask``, ``labels``.

        Right-padded for training; left-padded (``with_answer=False``) for generation.
        """
        return self._encode(tasks, self.project(streams, masks), with_answer)

    def _encode(self, tasks: Sequence[Task], projected: dict, with_answer: bool) -> dict[str, torch.Tensor]:
        blocks = self.connector.sequence(projected)  # the sign tokens of the sequence, block by block
        names = list(blocks)
        counts = [[int(blocks[n][1][b].sum()) for n in names] for b in range(len(tasks))]
        first = next(iter(self.projectors))
        hints = self._greedy_glosses(projected, first) if self.config.gloss_prompt else [None] * len(tasks)
        ids, labels = [], []
        for task, n_tokens, glosses in zip(tasks, counts, hints, strict=True):
            rendered = render_prompt(self.tokenizer, task, n_tokens, with_answer, glosses, self.language)
            prompt = self.tokenizer(rendered.prompt, add_special_tokens=False)["input_ids"]
            answer = self.tokenizer(rendered.answer, add_special_tokens=False)["input_ids"] if with_answer else []
            if len(prompt) + len(answer) > self.config.max_length:
                raise InputError(
                    None,
                    f"sample {task.sentence} needs {len(prompt) + len(answer)} tokens, more than "
                    f"max_length={self.config.max_length}: pool the streams more (stride) or use another connector",
                )
            ids.append(prompt + answer)
            labels.append([IGNORE] * len(prompt) + answer)
        longest = max(map(len, ids))
        pad = self.tokenizer.pad_token_id
        left = not with_answer
        input_ids = torch.full((len(ids), longest), pad, dtype=torch.long)
        label_ids = torch.full((len(ids), longest), IGNORE, dtype=torch.long)
        attention = torch.zeros((len(ids), longest), dtype=torch.long)
        for i, (seq, lab) in enumerate(zip(ids, labels, strict=True)):
            span = slice(longest - len(seq), longest) if left else slice(0, len(seq))
            input_ids[i, span] = torch.tensor(seq)
            label_ids[i, span] = torch.tensor(lab)
            attention[i, span] = 1
        input_ids, attention = input_ids.to(self.device), attention.to(self.device)
        lookup = input_ids.masked_fill(input_ids >= self.vocab_size, pad)  # special ids are not in the table
        text = self.llm.get_input_embeddings()(lookup)  # (B, L, H)
        # sign vectors in row-major placeholder order: sample by sample, block by block
        signs = torch.cat([blocks[n][0][b][blocks[n][1][b]] for b in range(len(tasks)) for n in names])
        embeds = splice(
            text, input_ids, {self.sign_id: signs, self.start_id: self.delimiters[0], self.end_id: self.delimiters[1]}
        )
        return {
            "inputs_embeds": embeds,
            "attention_mask": attention,
            "labels": label_ids.to(self.device),
            "input_ids": input_ids,
        }

    def reads_from(self, input_ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """Per sample, where the streams begin: the position id (real tokens before it, as the LLM
        counts positions under padding) of the first ``<video_start>`` that opens a stream block
        (the system prompt names the delimiters too, followed by text). ``(B,)``"""
        following = input_ids.roll(-1, 1)
        opens = (input_ids == self.start_id) & ((following == self.sign_id) | (following == self.end_id))
        index = opens.int().argmax(1, keepdim=True)  # the first one
        return (attention.long().cumsum(1) - 1).gather(1, index).squeeze(1)

    def _reading(self, projected: dict, batch: dict):
        """The connector's context in which the LLM reads the frames beside the sequence (mlp: none)."""
        return self.connector.reading(projected, self.reads_from(batch["input_ids"], batch["attention_mask"]))

    # --- training and inference ----------------------------------------------------------------

    def forward(self, *args, **kwargs) -> torch.Tensor:
        """The training loss of a batch: :meth:`losses`' ``total`` (same arguments)."""
        return self.losses(*args, **kwargs).total

    def losses(
        self,
        tasks: Sequence[Task],
        streams,
        stream_mask,
        label_smoothing: float = 0.0,
        glosses: Sequence[Sequence[str]] | None = None,
        ctc_weight: float = 0.0,
    ) -> Losses:
        """Mean cross-entropy of the answer tokens (teacher forcing), plus ``ctc_weight`` times the
        gloss CTC loss when ``glosses`` (per sample, in the order shown) are given; with the parts
        and the token count that training logs.

        Logits are computed only where a label follows (the answers are ~10 % of a sequence), which
        skips most of the LM head's work: with a frozen 135M LLM that head is a fifth of the compute.
        """
        projected = self.project(streams, stream_mask)
        batch = self._encode(tasks, projected, with_answer=True)
        tokens = int(batch["attention_mask"].sum())
        with self._reading(projected, batch):
            lm = self._lm_loss(batch, label_smoothing)
        parts = {"lm": float(lm.detach())}
        if ctc_weight <= 0 or glosses is None:
            return Losses(lm, parts, tokens)
        ctc = self.ctc_loss(projected, glosses)
        parts["ctc"] = float(ctc.detach())
        return Losses(lm + ctc_weight * ctc, parts, tokens)

    def ctc_loss(self, projected: dict, glosses: Sequence[Sequence[str]]) -> torch.Tensor:
        """Mean CTC loss of the gloss heads over the streams (samples without glosses are left out)."""
        if not self.gloss_heads:
            raise InputError(None, "the model has no gloss head: set model.glosses (train.ctc > 0 does it)")
        keep = [i for i, g in enumerate(glosses) if g]
        unknown = sorted({g for i in keep for g in glosses[i] if g not in self.gloss_index})
        if unknown:
            raise InputError(None, f"gloss(es) {', '.join(unknown[:5])} are not in the model's gloss vocabulary")
        if not keep:
            return self.delimiters.sum() * 0.0
        targets = torch.tensor([self.gloss_index[g] for i in keep for g in glosses[i]], device=self.device)
        target_lengths = torch.tensor([len(glosses[i]) for i in keep], device=self.device)
        losses = []
        for name, head in self.gloss_heads.items():
            tokens, mask = projected[name]
            logp = self._gloss_logits(head, tokens[keep]).float().log_softmax(-1).transpose(0, 1)  # (T', B, C)
            lengths = mask[keep].sum(1)
            losses.append(
                nn.functional.ctc_loss(logp, targets, lengths, target_lengths, reduction="mean", zero_infinity=True)
            )
        return torch.stack(losses).mean()

    @torch.no_grad()
    def recognize(self, streams, stream_mask) -> dict[str, list[list[str]]]:
        """Greedy CTC decoding of each stream's gloss head: ``{stream: [[gloss, ...] per sample]}``."""
        if not self.gloss_heads:
            raise InputError(None, "the model has no gloss head (it was trained without train.ctc)")
        projected = self.project(streams, stream_mask)
        return {name: self._greedy_glosses(projected, name) for name in self.gloss_heads}

    @torch.no_grad()
    def _greedy_glosses(self, projected: dict, name: str) -> list[list[str]]:
        """Greedy CTC decoding of stream ``name``'s gloss head on its projected tokens, per sample."""
        vocab = ["", *self.config.glosses]
        tokens, mask = projected[name]
        best = self._gloss_logits(self.gloss_heads[name], tokens).argmax(-1).masked_fill(~mask, 0)  # (B, T')
        return [[vocab[c] for j, c in enumerate(row) if c and (j == 0 or c != row[j - 1])] for row in best.tolist()]

    @staticmethod
    def _gloss_logits(head: nn.Linear, tokens: torch.Tensor) -> torch.Tensor:
        """The head sees unit-RMS tokens: sign tokens enter the LLM at text-embedding scale (~0.05 a
        value for SmolLM2), which would leave a plainly initialized head with near-constant logits."""
        return head(nn.functional.rms_norm(tokens, tokens.shape[-1:], eps=1e-6))

    def answer_logits(self, tasks: Sequence[Task], streams, stream_mask) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced float32 logits ``(B, K, V)`` at the positions where some sample's answer is
        predicted, and the targets there ``(B, K)`` (IGNORE where a sample's answer is not): what the
        loss reads, and what scoring a given answer needs. The connector's frames are read as in training."""
        projected = self.project(streams, stream_mask)
        batch = self._encode(tasks, projected, with_answer=True)
        with self._reading(projected, batch):
            return self._answer_logits(batch)

    def _answer_logits(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        targets = batch["labels"][:, 1:]  # position t predicts token t+1
        keep = (targets != IGNORE).any(0).nonzero().squeeze(1)  # (K,) positions any sample needs
        logits = self.cached_llm.answer_logits(
            batch["input_ids"], batch["inputs_embeds"], batch["attention_mask"], keep
        )  # (B, K, V)
        return logits, targets[:, keep]  # (B, K, V), (B, K)

    def _lm_loss(self, batch: dict, label_smoothing: float) -> torch.Tensor:
        logits, targets = self._answer_logits(batch)
        return nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            targets.reshape(-1),
            ignore_index=IGNORE,
            label_smoothing=label_smoothing,
        )

    def stop_ids(self) -> list[int]:
        """Token ids that end an answer: the chat template's end-of-turn marker(s), eos, and a token
        that is only a line break (every trained answer is one line; see :meth:`generate`)."""
        ids = {self.tokenizer.eos_token_id}
        for breaks in ("\n", "\n\n"):
            tokens = self.tokenizer.encode(breaks, add_special_tokens=False)
            if len(tokens) == 1:
                ids.add(tokens[0])
        for marker in ("<|im_end|>", "<|eot_id|>", "<|end_of_turn|>", "<end_of_turn>"):
            tid = self.tokenizer.convert_tokens_to_ids(marker)
            if isinstance(tid, int) and tid != self.tokenizer.unk_token_id and tid < self.vocab_size:
                ids.add(tid)
        return sorted(i for i in ids if i is not None)

    @torch.no_grad()
    def generate(
        self, tasks: Sequence[Task], streams, stream_mask, max_new_tokens: int = 100, num_beams: int = 1, **kwargs
    ) -> list[str]:
        """Answers for a batch (greedy or beam search), stopping at the end-of-turn token. Every
        answer the model is trained on is one line, so a line break ends one too: what a small LLM
        sometimes runs on with instead of the end-of-turn token (a made-up "A: ..." turn) is not
        generated where the break is a token of its own (:meth:`stop_ids`), and is cut otherwise."""
        projected = self.project(streams, stream_mask)
        batch = self._encode(tasks, projected, with_answer=False)
        embeds, attention = batch["inputs_embeds"], batch["attention_mask"]
        with self._reading(projected, batch):  # cross-attention: the frames' keys and values once per sample
            # the kept prompt head and each prompt computed once for its beams (none: generate prefills it all)
            kwargs.update(self.cached_llm.generate_cache(batch["input_ids"], embeds, attention, num_beams))
            out = self.llm.generate(
                inputs_embeds=embeds,
                attention_mask=attention,
                max_new_tokens=max_new_tokens,
                num_beams=num_beams,
                do_sample=False,
                eos_token_id=self.stop_ids(),
                pad_token_id=self.tokenizer.pad_token_id,
                **kwargs,
            )
        return [t.strip().split("\n", 1)[0].strip() for t in self.tokenizer.batch_decode(out, skip_special_tokens=True)]
