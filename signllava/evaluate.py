"""Evaluation: batched generation over a split, hypotheses JSON and a metrics report.

Context for translation can be ``gold`` (the reference sentences), ``none``, ``own`` (the model's
own previous outputs: the sentences of every video are translated in time order, one position of
all videos per batch), or a path to a hypotheses file (TSV or JSON, see ``ContextSource``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml
from torch import nn

from pose.config_loader import config_yaml, load_config
from pose.errors import InputError, quoted
from pose.io import atomic_output, output_file
from pretrain.runtime import CONFIG

from .data.dataset import SignCollator, SignDataset
from .data.how2sign import by_video
from .data.streams import DataConfig, build_streams, split_sentences
from .data.tasks import QUESTIONS, WORD_TASKS, ContextSource, ContextWindow, Task, TaskBuilder
from .inference.answers import AnswerConfig, answer_tasks
from .metrics import collapse_metrics, effective_rank, gloss_wer, translation_metrics, yes_no_metrics
from .model.build import load_trained, trained_config
from .model.checkpoint import read_meta
from .model.hub import looks_like_repo, resolve_checkpoint

QA_TASKS = ("sign_present", "signs_present", "reversed", "is_question")


@dataclass
class EvalConfig:
    """An evaluation run."""

    checkpoint: str = "runs/stage1/last"  # checkpoint folder (its config names the LLM and streams)
    data: DataConfig | None = None  # default: the data section the checkpoint was trained with
    split: str = "test"
    context: str = "gold"  # gold, none, own, or a hypotheses file
    qa: list[str] = field(default_factory=lambda: ["sign_present", "reversed"])  # QA tasks also evaluated
    answers: AnswerConfig = field(default_factory=AnswerConfig)  # how QA is answered, as ask answers it
    batch_size: int = 8
    num_beams: int = 5
    max_new_tokens: int = 100
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    output: str = ""  # JSON report path; default: <checkpoint>/../eval-<split>.json (a repo id: eval/<user>--<name>/)
    device: str = "auto"
    seed: int = 0
    limit: int = 0  # evaluate only the first N sentences (0 = all)
    half_weights: bool = True  # on a CPU, the LLM's linear weights in float16, as translate runs it

    def __post_init__(self):
        bad = [t for t in self.qa if t not in QA_TASKS]
        if bad:
            raise InputError(None, f"config value qa={bad} is invalid: choose from {', '.join(QA_TASKS)}")
        if self.batch_size < 1 or self.num_beams < 1 or self.max_new_tokens < 1:
            raise InputError(None, "batch_size, num_beams and max_new_tokens must be >= 1")


def load_eval_config(path: str | os.PathLike | None, overrides: Sequence[str]) -> EvalConfig:
    """The evaluation config from a YAML file and ``key=value`` overrides, where ``data.X=...``
    overrides change the data section the checkpoint was trained with (its streams, context window
    and tasks stay, e.g. to evaluate on another dataset's metadata) instead of the defaults."""
    is_data = [o.split("=", 1)[0].startswith("data.") for o in overrides]
    if not any(is_data):
        return load_config(EvalConfig, path, overrides)
    checkpoint = load_config(EvalConfig, path, [o for o, d in zip(overrides, is_data, strict=True) if not d]).checkpoint
    return load_config(EvalConfig, path, overrides, base={"data": trained_data(checkpoint)})


def report_path(cfg: EvalConfig) -> Path:
    """Where the report goes: ``output``, else beside the checkpoint folder (a run's ``last/`` gives
    ``RUN/eval-<split>.json``), else for a repo id under ``eval/<user>--<name>/`` here."""
    if cfg.output:
        return Path(cfg.output)
    if looks_like_repo(cfg.checkpoint):
        return Path("eval") / str(cfg.checkpoint).replace("/", "--") / f"eval-{cfg.split}.json"
    return Path(cfg.checkpoint).parent / f"eval-{cfg.split}.json"


def trained_data(checkpoint: str | os.PathLike) -> dict:
    """The ``data`` section of the config a checkpoint was trained with, as a plain dict ({} when the
    checkpoint has no config)."""
    from omegaconf import OmegaConf

    folder = resolve_checkpoint(checkpoint)
    if not (folder / CONFIG).is_file():
        return {}
    return OmegaConf.to_container(OmegaConf.structured(trained_config(folder).data))


def _batch(dataset: SignDataset, indices: list[int], tasks: list[Task]) -> dict:
    """The clips of ``tasks`` as a batch, each shown as its task says (a reversed task's backwards)."""
    items = []
    for i, task in zip(indices, tasks, strict=True):
        item = dataset[i]
        if task.reversed:
            item["streams"] = {k: v.flip(0) for k, v in item["streams"].items()}
        item["task"] = task
        items.append(item)
    return SignCollator()(items)


def _generate(model, dataset: SignDataset, indices: list[int], tasks: list[Task], cfg: EvalConfig) -> list[str]:
    batch = _batch(dataset, indices, tasks)
    return model.generate(
        batch["tasks"],
        batch["streams"],
        batch["stream_mask"],
        max_new_tokens=cfg.max_new_tokens,
        num_beams=cfg.num_beams,
        repetition_penalty=cfg.repetition_penalty,
        no_repeat_ngram_size=cfg.no_repeat_ngram_size,
    )


@contextlib.contextmanager
def _data_hint() -> Iterator[None]:
    """A data path that is not here usually comes from the checkpoint's own config, written on
    another machine: say how to point at this machine's copy."""
    try:
        yield
    except InputError as err:
        if "not found" not in err.problem:
            raise
        hint = "the checkpoint's config.yaml names it: give --set data.metadata=[...] (and data.streams.NAME.poses=...)"
        raise InputError(err.path, f"{err.problem}; {hint}") from None


def evaluate(cfg: EvalConfig, progress: bool = True) -> dict:
    """Translate (and answer QA on) a split; write the JSON report; return it."""
    from tqdm import tqdm

    folder = resolve_checkpoint(cfg.checkpoint)  # a folder, an export or a Hugging Face repo id
    read_meta(folder)  # a bad checkpoint is named before its data is looked for
    out = output_file(report_path(cfg))  # and a report that cannot be written, before the work
    data = cfg.data or trained_config(folder).data
    with _data_hint():  # the data is read before the model loads, so a wrong path fails at once
        sentences = split_sentences(data, cfg.split)
    if cfg.limit:
        sentences = sentences[: cfg.limit]
    if not sentences:
        raise InputError(None, f"no sentences in split {quoted(cfg.split)} of {data.metadata}")
    model, _ = load_trained(folder, cfg.device, merge=True, half_weights=cfg.half_weights)
    with _data_hint():
        streams = build_streams(data, sentences, model.config)
    dataset = SignDataset(sentences, streams, translation_only=True)
    index = {s.sentence_name: i for i, s in enumerate(sentences)}
    if cfg.context in ("gold", "own", "none"):
        source = ContextSource.gold(sentences) if cfg.context == "gold" else ContextSource()
    else:
        source = ContextSource.from_file(cfg.context)
    window = data.context if cfg.context != "none" and data.use_context else ContextWindow(0, 0)
    builder = TaskBuilder(sentences, window=window, source=source, seed=cfg.seed)
    hyps: dict[str, str] = {}
    # translation in rounds of "k-th sentence of every video": own outputs are ready as context
    videos = list(by_video(sentences).values())
    rounds = max(len(v) for v in videos)
    bar = tqdm(total=len(sentences), desc=f"translate {cfg.split}", unit="sent", disable=not progress)
    with torch.no_grad():
        for k in range(rounds):
            todo = [v[k] for v in videos if k < len(v)]
            for start in range(0, len(todo), cfg.batch_size):
                chunk = todo[start : start + cfg.batch_size]
                tasks = [builder.translation(s) for s in chunk]
                for s, text in zip(
                    chunk, _generate(model, dataset, [index[s.sentence_name] for s in chunk], tasks, cfg), strict=True
                ):
                    hyps[s.sentence_name] = text
                    if cfg.context == "own":
                        source.set(s.sentence_name, text)
                bar.update(len(chunk))
        bar.close()
        qa_results = _qa(model, dataset, builder, sentences, index, cfg)
        tokens = _sign_tokens(model, dataset)
        recognition = _recognition(model, dataset, cfg.batch_size)
        gold = TaskBuilder(sentences, window=window, source=ContextSource.gold(sentences), seed=cfg.seed)
        references = [gold.translation(s) for s in sentences]
        held_out = answer_loss(model, dataset, references, cfg.batch_size)
        # the same references, each scored on another sentence's clip (the next in the split): what a model
        # that ignored the signing would get too; the gap is what the clips tell the model
        held_out["other_clip_nats_per_token"] = (
            answer_loss(model, dataset, references[1:] + references[:1], cfg.batch_size)["nats_per_token"]
            if len(sentences) > 1  # one sentence has no other clip: no pass spent on it
            else None
        )
    refs = [s.text for s in sentences]
    hyp_list = [hyps[s.sentence_name] for s in sentences]
    report = {
        "checkpoint": str(cfg.checkpoint),
        "split": cfg.split,
        "context": cfg.context,
        "sentences": len(sentences),
        # scored in the model's written language, as its dataset's papers tokenize it (both BLEU conventions)
        "translation": translation_metrics(hyp_list, refs, model.language.code) | collapse_metrics(hyp_list),
        "translation_loss": held_out,
        "ambiguous": ambiguous_words(data, cfg.split, hyps),
        "qa": {task: _qa_metrics(rs) | {"method": cfg.answers.method(task)} for task, rs in qa_results.items()},
        "sign_tokens": tokens,
        "recognition": recognition,
        "config": yaml.safe_load(config_yaml(cfg)),
        "hypotheses": [
            {
                "sentence_name": s.sentence_name,
                "reference": s.text,
                "hypothesis": hyps[s.sentence_name],
                "context": list(builder.translation(s).context),
            }
            for s in sentences
        ],
        "qa_answers": qa_results,
    }
    with atomic_output(out) as tmp:
        tmp.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    report["output"] = str(out)
    return report


def ambiguous_words(data: DataConfig, split: str, hypotheses: dict[str, str]) -> dict | None:
    """Word accuracy on synthsign's topic-dependent signs (the English of BAND, CHEF ... depends on
    the document's topic), over all of them and over those whose topic only an earlier sentence
    names (context is needed); None where the metadata is not synthsign's."""
    from pose.synth import ambiguous_accuracy, load_metadata

    folders = {Path(m).parent for m in data.metadata if (Path(m).parent / f"synthsign_{split}.jsonl").is_file()}
    records = [r for folder in sorted(folders) for r in load_metadata(folder, split)]
    score = ambiguous_accuracy(records, hypotheses)
    if not score.total:
        return None
    return {
        "accuracy": 100 * score.accuracy,
        "n": score.total,
        "needs_context_accuracy": 100 * score.needs_context_accuracy if score.needs_context_total else None,
        "needs_context_n": score.needs_context_total,
    }


def qa_tasks(builder: TaskBuilder, sentences, task_name: str, rng: random.Random) -> list[Task]:
    """The questions a QA task is measured on, balanced where the task allows: ``sign_present`` asks
    about one word present and one absent per sentence, ``reversed`` about each clip both ways round;
    the other tasks one question per sentence, as training draws them."""
    if task_name == "sign_present":
        return [t for s in sentences for t in builder.sign_present_pair(s, rng)]
    if task_name == "reversed":
        return [
            Task(s.sentence_name, task_name, answer, QUESTIONS[task_name], reversed=answer == "yes")
            for s in sentences
            for answer in ("no", "yes")
        ]
    return [t for s in sentences if (t := builder.make(s, task_name, rng)) is not None]


def _qa(model, dataset, builder, sentences, index, cfg: EvalConfig) -> dict[str, list[dict]]:
    """Each QA task's questions answered as ``ask`` answers them (:func:`signllava.inference.answers.answer_tasks`)."""
    results: dict[str, list[dict]] = {}
    rng = random.Random(cfg.seed)
    for task_name in cfg.qa:
        if task_name in WORD_TASKS and model.language.written != "English":
            written = model.language.written
            warnings.warn(f"qa: {task_name} asks about English words: not evaluated for {written}", stacklevel=2)
            continue
        tasks = qa_tasks(builder, sentences, task_name, rng)
        rows = []
        for start in range(0, len(tasks), cfg.batch_size):
            chunk = tasks[start : start + cfg.batch_size]
            batch = _batch(dataset, [index[t.sentence] for t in chunk], chunk)
            preds = answer_tasks(model, chunk, batch["streams"], batch["stream_mask"], cfg.answers, max_new_tokens=16)
            rows += [
                {"sentence_name": t.sentence, "question": t.question, "answer": t.answer, "prediction": p}
                # the original's keyword questions: the words asked are keywords of the annotation
                | (
                    {"keywords": True}
                    if task_name in WORD_TASKS and builder.asks_keywords(sentences[index[t.sentence]])
                    else {}
                )
                for t, p in zip(chunk, preds, strict=True)
            ]
        results[task_name] = rows
    return results


def _qa_metrics(rows: list[dict]) -> dict:
    """Yes/no accuracy and F1 of a QA task's answers, and of its keyword questions apart where it asked some."""
    metrics = yes_no_metrics([r["prediction"] for r in rows], [r["answer"] for r in rows])
    asked = [r for r in rows if r.get("keywords")]
    if asked:
        metrics["keyword_questions"] = yes_no_metrics([r["prediction"] for r in asked], [r["answer"] for r in asked])
    return metrics


def answer_loss(model, dataset: SignDataset, tasks: list[Task], batch_size: int) -> dict:
    """Teacher-forced cross-entropy of the reference answers of ``tasks`` (one per sentence of
    ``dataset``, in its order), in nats per answer token over the whole split, and its perplexity:
    a measure of a model's reading that moves smoothly where BLEU of a young model is still near 0."""
    total, count = 0.0, 0
    for start in range(0, len(tasks), batch_size):
        chunk = list(range(start, min(start + batch_size, len(tasks))))
        batch = _batch(dataset, chunk, [tasks[i] for i in chunk])
        logits, targets = model.answer_logits(batch["tasks"], batch["streams"], batch["stream_mask"])
        valid = targets != -100
        nll = nn.functional.cross_entropy(logits[valid].float(), targets[valid], reduction="sum")
        total, count = total + float(nll), count + int(valid.sum())
    return {"nats_per_token": total / count, "perplexity": math.exp(total / count), "tokens": count}


def _recognition(model, dataset: SignDataset, batch_size: int) -> dict:
    """Gloss WER of each stream's CTC gloss head, when the model has one and the split has glosses."""
    with_glosses = [i for i, s in enumerate(dataset.sentences) if s.glosses]
    if not model.gloss_heads or not with_glosses:
        return {}
    predicted: dict[str, list[list[str]]] = {name: [] for name in model.gloss_heads}
    for start in range(0, len(with_glosses), batch_size):
        batch = SignCollator()([dataset[i] for i in with_glosses[start : start + batch_size]])
        for name, rows in model.recognize(batch["streams"], batch["stream_mask"]).items():
            predicted[name] += rows
    refs = [dataset.sentences[i].glosses for i in with_glosses]
    return {name: gloss_wer(rows, refs) for name, rows in predicted.items()}


def _sign_tokens(model, dataset: SignDataset, max_items: int = 256) -> dict:
    """Effective rank of projected sign tokens and their norm against text-token embeddings."""
    items = [dataset[i] for i in range(min(len(dataset), max_items))]
    batch = SignCollator()(items)
    projected = model.project(batch["streams"], batch["stream_mask"])
    out = {}
    text_norm = float(model.llm.get_input_embeddings().weight.float().norm(dim=-1).mean())
    for name, (tokens, mask) in projected.items():
        valid = tokens[mask].float()  # (N, H)
        out[name] = {
            "effective_rank": effective_rank(valid),
            "tokens": int(valid.shape[0]),
            "norm_ratio_to_text": float(valid.norm(dim=-1).mean()) / text_norm,
        }
    return out
