"""Pretraining a self-supervised sign encoder (Sign2Vec, DINO, MAE) with the shared loop (:mod:`pretrain.loop`).

:class:`PretrainConfig` names the objective and its model settings; :func:`pretrain` builds the
objective and hands it to :func:`pretrain.loop.fit`, which owns seeding, bf16 autocast, the
optimizer and schedule, gradient accumulation, DDP across processes, ``metrics.jsonl`` (loss,
learning rate, samples/s and the objective's own metrics), ``loss.png`` and the atomic ``last/``
(``model.safetensors``: the objective's whole state, e.g. DINO's teacher too; ``config.yaml``;
``training.pt``). Rerunning the same command resumes exactly. The encoder comes back with
:func:`pretrain.build.load_objective` (:mod:`pretrain.build`).
"""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import save_file

from pose.io import output_folder

from .build import PretrainConfig, build_objective, config_text
from .loop import Run, StepOutput, Trainee, fit
from .runtime import WEIGHTS, distributed_setup, load_weights, seed_everything


def pretrain(cfg: PretrainConfig, progress: bool = True, should_stop=None) -> dict:
    """Run (or resume) pretraining; returns steps, last loss, samples/s and the run folder.

    Under torch.distributed (WORLD_SIZE > 1: ``torchrun``, or ``submit pretrain-*`` with several
    tasks) every rank trains on its share of each epoch and DDP averages the gradients."""
    output_folder(cfg.output_dir)  # a file in the way is said before the model is built
    rank, world, device = distributed_setup(cfg.device)
    seed_everything(cfg.seed)
    objective = build_objective(cfg).to(device)
    dataset = objective.dataset(cfg.data, objective.config)

    def save(folder: Path, step: int) -> None:
        save_file({k: v.detach().cpu().contiguous() for k, v in objective.state_dict().items()}, folder / WEIGHTS)

    def load(folder: Path) -> None:
        objective.load_state_dict(load_weights(folder / WEIGHTS, device), strict=True)

    trainee = Trainee(objective, lambda batch: StepOutput(*objective.loss(batch)), save, load, objective.after_step)
    run = Run(
        cfg.output_dir,
        config_text(cfg),
        order_seed=cfg.seed * 1_000_003,
        log_every=cfg.log_every,
        save_every=cfg.save_every,
        num_workers=cfg.num_workers,
        desc=f"pretrain {cfg.objective}",
    )
    objective.train()
    return fit(trainee, dataset, objective.collate, cfg.optim, run, device, rank, world, progress, should_stop)
