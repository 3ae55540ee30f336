"""One launcher for every stage: ``signllava submit STAGE --profile slurm/X.yaml`` through submitit.

A *profile* (YAML in ``slurm/``) says where jobs run: partition, account, GPUs, time, array size.
A *stage* says what runs: its config dataclass (the same one the stage's own command uses) and a
picklable job object that holds only that config. Extraction stages run as job arrays over shards
(each task resumable); training runs as one multi-task job (DDP across the tasks). Every job is
checkpointable: on SLURM's USR2 (preemption, or ``signal_delay_s`` before the time limit) training
stops at a step boundary, saves ``last/`` and requeues itself; other stages just requeue and
skip what is already written. Requeues are bounded by the profile's ``max_requeues``.

Logs land in ``<run>/slurm/<job id>/`` (submitit's stdout/stderr per task), and every submission
is recorded in ``<run>/slurm/jobs.jsonl`` for ``signllava jobs <run>``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit  # at import, not inside a command: it configures logging (dictConfig) when first imported
from omegaconf import OmegaConf

from pose.config import ExtractConfig
from pose.errors import InputError
from pose.io import atomic_output
from pretrain.build import PretrainConfig
from pretrain.extract import FeatureJob

from .build import TrainConfig
from .config import config_yaml, load_config
from .evaluate import EvalConfig, load_eval_config

JOBS_FILE = "jobs.jsonl"


# --- profiles ------------------------------------------------------------------------------------


@dataclass
class Profile:
    """Where and how one stage's jobs run. A profile file holds ``defaults`` and per-stage ``stages``."""

    cluster: str = "slurm"  # slurm, local (subprocesses here, no scheduler) or debug (in this process)
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None  # node features, e.g. "a100|h100"
    nodes: int = 1
    tasks_per_node: int = 1  # processes per node: training runs one DDP rank per task (one per GPU)
    gpus_per_node: int = 0
    cpus_per_task: int = 1
    mem_gb: float | None = None  # memory per node (None: the partition's default)
    time_min: int = 60  # time limit per job (per array task)
    array_size: int = 1  # extraction stages: shards of the input list = array tasks
    array_parallelism: int = 64  # array tasks running at once
    max_requeues: int = 3  # preemptions / time limits survived before a job gives up
    signal_delay_s: int = 120  # SLURM sends USR2 this long before the time limit
    setup: list[str] = field(default_factory=list)  # shell lines run first (module load ..., source venv)
    sbatch: dict[str, Any] = field(default_factory=dict)  # any other sbatch option, e.g. {mail-type: END}

    def __post_init__(self):
        if self.cluster not in ("slurm", "local", "debug"):
            raise InputError(None, f"profile value cluster={self.cluster!r} is invalid: slurm, local or debug")
        for name in ("nodes", "tasks_per_node", "cpus_per_task", "time_min", "array_size", "array_parallelism"):
            if getattr(self, name) < 1:
                raise InputError(None, f"profile value {name}={getattr(self, name)!r} is invalid: must be >= 1")
        if self.gpus_per_node < 0 or self.max_requeues < 0 or self.signal_delay_s < 0:
            raise InputError(None, "profile values gpus_per_node, max_requeues and signal_delay_s must be >= 0")

    def executor_parameters(self) -> dict[str, Any]:
        """submitit parameters (shared names, plus ``slurm_*`` ones that other executors ignore)."""
        params: dict[str, Any] = {
            "nodes": self.nodes,
            "tasks_per_node": self.tasks_per_node,
            "cpus_per_task": self.cpus_per_task,
            "timeout_min": self.time_min,
            "slurm_array_parallelism": self.array_parallelism,
            "slurm_signal_delay_s": self.signal_delay_s,
        }
        if self.gpus_per_node:
            params["gpus_per_node"] = self.gpus_per_node
        if self.mem_gb is not None:
            params["mem_gb"] = self.mem_gb
        for name in ("partition", "account", "qos", "constraint"):
            if getattr(self, name):
                params[f"slurm_{name}"] = getattr(self, name)
        if self.setup:
            params["slurm_setup"] = list(self.setup)
        if self.sbatch:
            params["slurm_additional_parameters"] = dict(self.sbatch)
        return params


def load_profile(path: str | os.PathLike, stage: str) -> Profile:
    """The profile for ``stage``: the file's ``defaults`` updated by its ``stages.<stage>`` section."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "profile not found")
    try:
        raw = OmegaConf.to_container(OmegaConf.load(path)) or {}
    except Exception as err:
        raise InputError(path, f"not a valid YAML profile ({str(err).splitlines()[0]})") from err
    if not isinstance(raw, dict) or set(raw) - {"defaults", "stages"}:
        raise InputError(path, "a profile has two sections, defaults and stages; found " + ", ".join(map(str, raw)))
    stages = raw.get("stages") or {}
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise InputError(path, f"unknown stage {unknown[0]!r} in stages (known: {', '.join(STAGES)})")
    known = {f.name for f in dataclasses.fields(Profile)}
    merged = {}
    for where, section in (("defaults", raw.get("defaults") or {}), (f"stages.{stage}", stages.get(stage) or {})):
        bad = sorted(set(section) - known)
        if bad:
            raise InputError(path, f"unknown field {where}.{bad[0]} (profile fields: {', '.join(sorted(known))})")
        merged.update(section)
    try:
        return Profile(**merged)
    except InputError as err:
        raise InputError(path, err.problem) from err
    except TypeError as err:
        raise InputError(path, str(err)) from err


# --- jobs (picklable; each holds only its config) ----------------------------------------------


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


@dataclass
class TrainJob(_Requeueable):
    config: TrainConfig
    max_requeues: int = 3

    def __call__(self) -> dict:
        from .train import train

        _join_tasks()
        with StopFlag() as flag:
            summary = train(self.config, progress=False, should_stop=flag)
        print(f"rank {summary['rank']} of {summary['world_size']}: {summary['steps']} steps", flush=True)
        if flag.raised and summary["steps"] < self.config.optim.max_steps:
            print(f"checkpoint saved at step {summary['steps']}", flush=True)
            flag.forward()  # rank 0: submitit requeues the job and exits; other ranks return
        return summary


@dataclass
class ExtractJob(_Requeueable):
    inputs: list[str]
    output: str
    config: ExtractConfig
    max_requeues: int = 3

    def __call__(self, shard: int) -> dict:
        from pose.batch import run_batch, write_failures

        cfg = dataclasses.replace(self.config, shard=shard)
        report = run_batch(self.inputs, self.output, cfg, progress=False)
        print(report.summary(), flush=True)
        shards = Path(self.output) / "slurm" / "shards"
        shards.mkdir(parents=True, exist_ok=True)
        failures = shards / f"shard-{shard:05d}.failures.tsv"
        if report.failed:
            write_failures(report, failures)
        elif failures.exists():
            failures.unlink()  # a rerun fixed them
        summary = {
            "shard": shard,
            "done": len(report.done),
            "skipped": len(report.skipped),
            "failed": [o.error for o in report.failed],
            "frames": report.frames,
            "seconds": report.wall_seconds,
        }
        with atomic_output(shards / f"shard-{shard:05d}.json") as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n")
        return summary


@dataclass
class PretrainJob(_Requeueable):
    config: PretrainConfig
    max_requeues: int = 3

    def __call__(self) -> dict:
        from pretrain.trainer import pretrain

        _join_tasks()
        with StopFlag() as flag:
            summary = pretrain(self.config, progress=False, should_stop=flag)
        print(f"rank {summary['rank']} of {summary['world_size']}: {summary['steps']} steps", flush=True)
        if flag.raised and summary["steps"] < self.config.optim.max_steps:
            print(f"checkpoint saved at step {summary['steps']}", flush=True)
            flag.forward()  # submitit requeues the job and exits
        return summary


@dataclass
class FeaturesJob(_Requeueable):
    config: FeatureJob
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
        from .evaluate import evaluate

        report = evaluate(self.config, progress=False)
        return {"output": report["output"], "translation": report["translation"]}


# --- stages --------------------------------------------------------------------------------------


@dataclass
class ExtractStage:
    """extract-poses as a job array: the input list split into ``array_size`` shards."""

    inputs: list[str] = field(default_factory=list)  # videos, folders of videos, or manifests
    output: str = "out/poses"
    extract: ExtractConfig = field(default_factory=ExtractConfig)


@dataclass(frozen=True)
class Stage:
    schema: type
    array: bool  # one job per shard (map_array) instead of one (multi-task) job
    help: str


STAGES: dict[str, Stage] = {
    "extract-poses": Stage(ExtractStage, True, "MediaPipe poses for every video (job array over shards)"),
    "pretrain-sign2vec": Stage(PretrainConfig, False, "Sign2Vec (wav2vec 2.0 on pose sequences; DDP over tasks)"),
    "pretrain-dino": Stage(PretrainConfig, False, "DINO on face and hand crops"),
    "pretrain-mae": Stage(PretrainConfig, False, "MAE on the signer crop"),
    "extract-features": Stage(FeatureJob, True, "per-frame features into the feature store (array over shards)"),
    "train": Stage(TrainConfig, False, "SignLLaVA stage 1/2 training (DDP over tasks_per_node x nodes)"),
    "evaluate": Stage(EvalConfig, False, "translate a split, score it (BLEU, chrF, ROUGE, QA)"),
}


def stage_config(stage: str, config: str | os.PathLike | None, overrides: list[str]):
    if stage not in STAGES:
        raise InputError(None, f"unknown stage {stage!r}: choose from {', '.join(STAGES)}")
    if stage == "evaluate":
        return load_eval_config(config, overrides)
    preset = [f"objective={stage.removeprefix('pretrain-')}"] if stage.startswith("pretrain-") else []
    return load_config(STAGES[stage].schema, config, [*preset, *overrides])


def run_folder(stage: str, cfg) -> Path:
    """Where a stage's outputs, and so its logs and job records, live."""
    if stage in ("extract-poses", "extract-features"):
        return Path(cfg.output)
    if stage == "train" or stage.startswith("pretrain-"):
        return Path(cfg.output_dir)
    return Path(cfg.output).parent if cfg.output else Path(cfg.checkpoint).parent


def _check_inputs(stage: str, cfg) -> None:
    """Refuse what would fail on the cluster anyway, before anything is queued."""
    if stage == "extract-poses":
        if not cfg.inputs:
            raise InputError(None, "extract-poses needs inputs: --set 'inputs=[/data/videos]' (folders or manifests)")
        for path in map(Path, cfg.inputs):
            if not path.exists():
                raise InputError(path, "input (video, folder or manifest) not found")
    if stage in ("train", "evaluate"):
        for path in map(Path, cfg.data.metadata if cfg.data else []):
            if not path.exists():
                raise InputError(path, "metadata file (manifest) not found")
    if stage.startswith("pretrain-") or stage == "extract-features":
        if not Path(cfg.data.poses).is_dir():
            raise InputError(Path(cfg.data.poses), "pose folder not found (data.poses)")
        if getattr(cfg, "checkpoint", None) and not Path(cfg.checkpoint).is_dir():
            raise InputError(Path(cfg.checkpoint), "checkpoint folder not found")
    if stage == "evaluate" and not Path(cfg.checkpoint).is_dir():
        raise InputError(Path(cfg.checkpoint), "checkpoint folder not found")


def _partition_gpus(partition: str | None) -> int:
    """GPUs per node the partition offers (from sinfo's generic resources), 0 if none."""
    cmd = ["sinfo", "-h", "-o", "%G"] + (["-p", partition] if partition else [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    best = 0
    for gres in out.split():
        for item in gres.split(","):
            parts = item.split("(")[0].split(":")
            if parts[0] == "gpu" and parts[-1].isdigit():
                best = max(best, int(parts[-1]))
    return best


def _check_profile(profile: Profile, where: Path) -> None:
    if profile.cluster == "slurm":
        if shutil.which("sbatch") is None:
            raise InputError(where, "cluster: slurm, but no SLURM here (sbatch not found); use --local to run here")
        if profile.gpus_per_node:
            offered = _partition_gpus(profile.partition)
            if offered < profile.gpus_per_node:
                raise InputError(
                    where,
                    f"asks for {profile.gpus_per_node} GPUs per node, but partition {profile.partition or '(default)'}"
                    f" has {offered or 'no'} GPUs per node",
                )
    elif profile.gpus_per_node:
        import torch

        if torch.cuda.device_count() < profile.gpus_per_node:
            raise InputError(
                where, f"asks for {profile.gpus_per_node} GPUs, this machine has {torch.cuda.device_count()}"
            )


@dataclass
class Submission:
    stage: str
    run: Path
    job_ids: list[str]
    logs: Path
    record: dict  # the line written to jobs.jsonl
    results: list | None = None  # per job, per task (filled when run in-process)


def submit(
    stage: str,
    profile_path: str | os.PathLike,
    config: str | os.PathLike | None = None,
    overrides: list[str] | None = None,
    local: bool = False,
) -> Submission:
    """Validate everything, then submit the stage's job(s); ``local`` runs them in this process."""
    cfg = stage_config(stage, config, list(overrides or []))
    profile = load_profile(profile_path, stage)
    if local:
        profile = dataclasses.replace(profile, cluster="debug")
    _check_inputs(stage, cfg)
    _check_profile(profile, Path(profile_path))
    if stage == "train" and profile.cluster == "slurm" and cfg.device == "auto" and not profile.gpus_per_node:
        cfg.device = "cpu"  # a CPU-only allocation trains with gloo, whatever the submitting machine has
    run = run_folder(stage, cfg)
    logs = run / "slurm"
    logs.mkdir(parents=True, exist_ok=True)
    for name, obj in ((f"{stage}.yaml", cfg), (f"{stage}.profile.yaml", profile)):
        with atomic_output(logs / name) as tmp:
            tmp.write_text(config_yaml(obj))
    executor = submitit.AutoExecutor(
        folder=logs / "%j", cluster=profile.cluster, slurm_max_num_timeout=profile.max_requeues
    )
    try:
        executor.update_parameters(name=f"signllava-{stage}", **profile.executor_parameters())
    except NameError as err:  # an sbatch option submitit does not know
        raise InputError(Path(profile_path), str(err).splitlines()[0]) from err
    shards = list(range(profile.array_size))
    if stage == "extract-poses":
        extract = dataclasses.replace(cfg.extract, num_shards=len(shards), shard=0)
        jobs = executor.map_array(ExtractJob(list(cfg.inputs), cfg.output, extract, profile.max_requeues), shards)
    elif stage == "extract-features":
        job = dataclasses.replace(cfg, num_shards=len(shards), shard=0)
        jobs = executor.map_array(FeaturesJob(job, profile.max_requeues), shards)
    else:
        kinds = {"train": TrainJob, "evaluate": EvaluateJob}
        jobs = [executor.submit(kinds.get(stage, PretrainJob)(cfg, profile.max_requeues))]
    array = STAGES[stage].array
    ids = sorted({str(j.job_id).split("_")[0] if array else str(j.job_id) for j in jobs})
    record = {
        "stage": stage,
        "job_id": ids[0],
        "tasks": len(jobs),
        "cluster": profile.cluster,
        "submitted": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "profile": str(profile_path),
    }
    submission = Submission(stage, run, ids, logs, record)
    try:
        if profile.cluster == "debug":  # the debug executor runs each job when its result is asked for
            submission.results = [j.results() for j in jobs]
            record["state"] = "COMPLETED"
    except BaseException:
        record["state"] = "FAILED"
        raise
    finally:
        with open(logs / JOBS_FILE, "a") as f:
            f.write(json.dumps(record) + "\n")
    return submission
