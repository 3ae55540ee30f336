"""What runs in a SLURM job: one picklable job object per stage, holding only its config.

submitit pickles the job, runs it on the allocated node(s) and calls its ``checkpoint`` on USR2
(preemption, or ``signal_delay_s`` before the time limit): training stages stop at a step boundary,
save ``last/`` and requeue themselves (:class:`StopFlag`); extraction stages requeue and skip what
is already written. Requeues are bounded by the profile's ``max_requeues``. A job of several tasks
trains as one DDP run (:func:`_join_tasks`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import submitit  # at import, not inside a command: it configures logging (dictConfig) when first imported

from pose.config import ExtractConfig
from pose.io import atomic_output, make_folder
from pretrain.build import PretrainConfig
from pretrain.extract import ExtractFeaturesConfig

from ..evaluate import EvalConfig
from ..model.build import TrainConfig


class _Requeueable:
    """submitit calls ``checkpoint`` on USR2: requeue the same job unless requeues are used up."""

    max_requeues: int = 3

    def checkpoint(self, *args, **kwargs):
        restarts = int(os.environ.get("SLURM_RESTART_COUNT", "0"))
        if restarts >= self.max_requeues:
            print(f"not requeued: this job was already requeued {restarts} times (max_requeues)", flush=True)
            return None
        print(f"requeueing (restart {restarts + 1} of at most {self.max_requeues})", flush=True)
        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


class StopFlag:
    """Turns SLURM's USR2 into a request to stop at the next step boundary (``should_stop``).

    submitit's own USR2 handler would checkpoint and exit in the middle of a step; this one only
    records the signal, the training loop saves ``last/`` after a whole step, and then
    :meth:`forward` hands the signal to submitit, which requeues the job (rank 0) and exits.
    """

    def __init__(self):
        self.raised = False
        self._previous = None

    def __enter__(self) -> StopFlag:
        self._previous = signal.getsignal(signal.SIGUSR2)
        signal.signal(signal.SIGUSR2, self._note)
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGUSR2, self._previous or signal.SIG_DFL)

    def _note(self, signum, frame) -> None:
        self.raised = True
        print("USR2 received: stopping after this step to checkpoint and requeue", flush=True)

    def __call__(self, step: int) -> bool:
        return self.raised

    def forward(self) -> None:
        if callable(self._previous):
            self._previous(signal.SIGUSR2, None)


def _join_tasks() -> None:
    """A job of several tasks trains as one DDP run: export the torch.distributed variables
    (RANK, WORLD_SIZE, MASTER_ADDR ...) that :func:`pretrain.runtime.distributed_setup` reads."""
    env = submitit.JobEnvironment() if "SUBMITIT_FOLDER" in os.environ or "SLURM_JOB_ID" in os.environ else None
    if env is not None and env.num_tasks > 1:
        submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)


class _TrainingJob(_Requeueable):
    """A run of the shared training loop as a job: its ranks join up (several tasks = DDP), and on USR2
    the loop stops after the current step, saves ``last/`` and the job requeues itself."""

    config: TrainConfig | PretrainConfig

    def run(self, should_stop) -> dict:
        raise NotImplementedError

    def __call__(self) -> dict:
        _join_tasks()
        with StopFlag() as flag:
            summary = self.run(flag)
        print(f"rank {summary['rank']} of {summary['world_size']}: {summary['steps']} steps", flush=True)
        if flag.raised and summary["steps"] < self.config.optim.max_steps:
            print(f"checkpoint saved at step {summary['steps']}", flush=True)
            flag.forward()  # rank 0: submitit requeues the job and exits; other ranks return
        return summary


@dataclass
class TrainJob(_TrainingJob):
    config: TrainConfig
    max_requeues: int = 3

    def run(self, should_stop) -> dict:
        from ..train import train

        return train(self.config, progress=False, should_stop=should_stop)


@dataclass
class PretrainJob(_TrainingJob):
    config: PretrainConfig
    max_requeues: int = 3

    def run(self, should_stop) -> dict:
        from pretrain.trainer import pretrain

        return pretrain(self.config, progress=False, should_stop=should_stop)


@dataclass
class ExtractPosesJob(_Requeueable):
    inputs: list[str]
    output: str
    config: ExtractConfig
    max_requeues: int = 3

    def __call__(self, shard: int) -> dict:
        from pose.batch import run_batch

        cfg = dataclasses.replace(self.config, shard=shard)
        return _shard_record(self.output, shard, run_batch(self.inputs, self.output, cfg, progress=False))


def _shard_record(output: str, shard: int, report) -> dict:
    """A shard's batch report (:class:`pose.batch.BatchReport`) printed, and its summary and failures list
    written under ``output``/slurm/shards (what ``jobs`` reports)."""
    from pose.batch import write_failures

    print(report.summary(), flush=True)
    summary = {
        "shard": shard,
        "done": len(report.done),
        "skipped": len(report.skipped),
        "failed": [o.error for o in report.failed],
        "frames": report.frames,
        "seconds": report.wall_seconds,
    }
    shards = make_folder(Path(output) / "slurm" / "shards")
    failures = shards / f"shard-{shard:05d}.failures.tsv"
    if report.failed:
        write_failures(report, failures)
    elif failures.exists():
        failures.unlink()  # a rerun fixed them
    with atomic_output(shards / f"shard-{shard:05d}.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


@dataclass
class ImportKeypointsJob(_Requeueable):
    config: object  # signllava.cluster.stages.ImportKeypointsConfig
    num_shards: int = 1
    max_requeues: int = 3

    def __call__(self, shard: int) -> dict:
        from pose.keypoints_batch import import_keypoints
        from pose.keypoints_json import parse_size

        cfg = self.config
        size = parse_size(cfg.size) if cfg.size is not None else None
        shares = {"shard": shard, "num_shards": self.num_shards}
        report = import_keypoints(cfg.inputs, cfg.output, cfg.fps, size, cfg.overwrite, progress=False, **shares)
        return _shard_record(cfg.output, shard, report)


@dataclass
class ExtractFeaturesJob(_Requeueable):
    config: ExtractFeaturesConfig
    max_requeues: int = 3

    def __call__(self, shard: int) -> dict:
        from pretrain.extract import extract_features

        report = extract_features(dataclasses.replace(self.config, shard=shard), progress=False)
        print(report.summary(), flush=True)
        return {"shard": shard, "done": report.done, "skipped": report.skipped, "frames": report.frames}


@dataclass
class EvaluateJob(_Requeueable):
    config: EvalConfig
    max_requeues: int = 3

    def __call__(self) -> dict:
        from ..evaluate import evaluate

        report = evaluate(self.config, progress=False)
        return {"output": report["output"], "translation": report["translation"]}
