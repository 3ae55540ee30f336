"""Training SignLLaVA: stage 1 (projectors only, LLM frozen) and stage 2 (+ LoRA through peft).

One config object (:class:`~signllava.model.build.TrainConfig`) drives a run. :func:`train` loads the
sentences and streams, builds the model (:mod:`signllava.model.build`) and hands its loss to the loop
every stage shares (:func:`pretrain.loop.fit`: seeding, DDP, optimizer and schedule, accumulation,
clipping, ``metrics.jsonl``, ``loss.png`` and the atomic ``last/`` with exact resume). A
checkpoint holds the trainable state only (:mod:`signllava.model.checkpoint`).
"""

from __future__ import annotations

import warnings

from pose import provenance
from pose.config_loader import config_yaml
from pose.errors import InputError
from pose.io import output_folder
from pretrain.loop import Run, StepOutput, Trainee, fit
from pretrain.runtime import distributed_setup, seed_everything

from .data.dataset import SignCollator, SignDataset
from .data.languages import language
from .data.streams import build_streams, data_language, split_sentences
from .data.tasks import ContextWindow, TaskBuilder
from .model.build import TrainConfig, build_model
from .model.checkpoint import load_checkpoint, read_meta, write_checkpoint
from .model.hub import resolve_checkpoint


def gloss_vocabulary(sentences, given: list[str]) -> list[str]:
    """The CTC gloss vocabulary: ``given`` (a resumed or configured model's) or the training glosses, sorted."""
    found = sorted({g for s in sentences for g in s.glosses})
    if not found:
        raise InputError(None, "ctc > 0 needs sign glosses: the training metadata has no GLOSSES column")
    if given:
        unknown = sorted(set(found) - set(given))
        if unknown:
            raise InputError(None, f"model.glosses lacks training gloss(es) {', '.join(unknown[:5])}")
        return list(given)
    return found


def train(cfg: TrainConfig, progress: bool = True, should_stop=None) -> dict:
    """Run (or resume) training; returns a summary: steps, final loss, tokens/s, run folder.

    Under torch.distributed (WORLD_SIZE > 1) every rank trains on its share of each batch order and
    DDP averages the gradients of the trainable parameters; rank 0 writes logs and checkpoints.
    ``should_stop(step)`` is asked after every optimizer step; when it returns True the run saves
    ``last/`` and returns early (a preemption or time-limit handler), and the next call resumes.
    """
    output_folder(cfg.output_dir)  # a file in the way is said before the data is read
    rank, world, device = distributed_setup(cfg.device)
    seed_everything(cfg.seed)
    if cfg.init_from:
        # not a checkpoint, or its weights damaged: said before the data is read (a repo id fetched now)
        read_meta(resolve_checkpoint(cfg.init_from))
    sentences = split_sentences(cfg.data, cfg.data.train_split)
    # the prompts name the data's languages ("... German Sign Language video into German"); a model that
    # resumes or starts from another keeps what its config says
    cfg.model.language = cfg.model.language or data_language(cfg.data)
    written = language(cfg.model.language).written
    if written != "English":
        dropped = cfg.data.tasks.without_word_tasks(written)
        if dropped:
            words = ", ".join(dropped)
            warnings.warn(f"data.tasks: {words} ask about English words: not drawn for {written} data", stacklevel=2)
    window = cfg.data.context if cfg.data.use_context else ContextWindow(0, 0)
    builder = TaskBuilder(
        sentences, weights=cfg.data.tasks, window=window, seed=cfg.seed, paraphrase_rate=cfg.data.paraphrase_rate
    )
    sources = build_streams(cfg.data, sentences, cfg.model)
    dataset = SignDataset(sentences, sources, builder)
    if cfg.ctc > 0:
        cfg.model.glosses = gloss_vocabulary(sentences, cfg.model.glosses)
    model = build_model(cfg, device)
    poses = provenance.merged(s.poses for s in sources.values())  # translate extracts new videos the same way
    text = config_yaml(cfg)

    def step(batch) -> StepOutput:
        losses = model.losses(
            batch["tasks"],
            batch["streams"],
            batch["stream_mask"],
            label_smoothing=cfg.optim.label_smoothing,
            glosses=batch["glosses"],
            ctc_weight=cfg.ctc,
        )
        logged = losses.parts if "ctc" in losses.parts else {}  # lm alone is the loss itself
        return StepOutput(losses.total, logged, losses.tokens)

    trainee = Trainee(
        model,
        step,
        save=lambda folder, at: write_checkpoint(folder, model, at, poses),
        load=lambda folder: load_checkpoint(folder, model),
    )
    run = Run(
        cfg.output_dir,
        text,
        order_seed=cfg.seed * 100_003,
        log_every=cfg.log_every,
        save_every=cfg.save_every,
        num_workers=cfg.data.num_workers,
        plot_label="train loss",
        plot_parts={"ctc": "gloss CTC (in the loss, weighted)"},
        on_epoch=dataset.set_epoch,
    )
    model.train()
    model.llm.train(cfg.lora.enabled)  # LoRA dropout needs train mode; a frozen LLM stays in eval
    return fit(trainee, dataset, SignCollator(), cfg.optim, run, device, rank, world, progress, should_stop)
