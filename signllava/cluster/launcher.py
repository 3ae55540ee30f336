"""One launcher for every stage: ``signllava submit STAGE --profile slurm/X.yaml`` through submitit.

A *profile* (:mod:`signllava.cluster.profiles`, YAML in ``slurm/``) says where jobs run: partition,
account, GPUs, time, array size. A *stage* (:mod:`signllava.cluster.stages`) says what runs: its config
and its picklable job (:mod:`signllava.cluster.stage_jobs`). Extraction stages run as job arrays over
shards (each task resumable); training stages run as one multi-task job (DDP across the tasks).
Every job is checkpointable and requeues itself on USR2, at most ``max_requeues`` times.

Logs land in ``<run>/slurm/<job id>/`` (submitit's stdout/stderr per task), and every submission
is recorded in ``<run>/slurm/jobs.jsonl`` for ``signllava jobs <run>``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import submitit  # at import, not inside a command: it configures logging (dictConfig) when first imported

from pose.config_loader import config_yaml
from pose.errors import MESSAGE, InputError, excerpt
from pose.io import atomic_output, make_folder, output_folder

from .profiles import check_profile, load_profile
from .stages import get_stage

JOBS_FILE = "jobs.jsonl"


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
    variant: str | None = None,
) -> Submission:
    """Validate everything, then submit the stage's job(s); ``local`` runs them in this process.
    ``variant``: one of the stage's named presets (``train``: ``"2"``, stage 2)."""
    spec = get_stage(stage)
    cfg = spec.config(config, list(overrides or []), variant)
    profile = load_profile(profile_path, stage)
    if local:
        profile = dataclasses.replace(profile, cluster="debug")
    if spec.check is not None:
        spec.check(cfg)
    check_profile(profile, Path(profile_path), array_stage=stage if spec.array else None)
    cpu_only = profile.cluster == "slurm" and not profile.gpus_per_node
    if cpu_only and getattr(cfg, "device", None) == "auto":
        cfg.device = "cpu"  # a CPU-only allocation trains with gloo, whatever the submitting machine has
    run = output_folder(spec.run_folder(cfg))
    logs = make_folder(run / "slurm")
    for name, obj in ((f"{stage}.yaml", cfg), (f"{stage}.profile.yaml", profile)):
        with atomic_output(logs / name) as tmp:
            tmp.write_text(config_yaml(obj))
    executor = submitit.AutoExecutor(
        folder=logs / "%j", cluster=profile.cluster, slurm_max_num_timeout=profile.max_requeues
    )
    try:
        executor.update_parameters(name=f"signllava-{stage}", **profile.executor_parameters())
    except NameError as err:  # an sbatch option submitit does not know
        raise InputError(Path(profile_path), excerpt(str(err).splitlines()[0], MESSAGE)) from err
    shards = list(range(profile.array_size)) if spec.array else [0]
    job = spec.job(cfg, len(shards), profile.max_requeues)
    jobs = executor.map_array(job, shards) if spec.array else [executor.submit(job)]
    ids = sorted({str(j.job_id).split("_")[0] if spec.array else str(j.job_id) for j in jobs})
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
