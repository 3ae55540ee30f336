"""Cluster profiles: where and how a stage's jobs run (YAML files in ``slurm/``).

A profile file holds ``defaults`` and per-stage ``stages`` sections; :func:`load_profile` merges
them for one stage, and :func:`check_profile` refuses, before anything is queued, what the
cluster cannot give (no SLURM here, GPUs a partition does not have).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from pose.errors import MESSAGE, InputError, excerpt, quoted

from .stages import STAGES


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
            raise InputError(None, f"profile value cluster={quoted(self.cluster)} is invalid: slurm, local or debug")
        for name in ("nodes", "tasks_per_node", "cpus_per_task", "time_min", "array_size", "array_parallelism"):
            if getattr(self, name) < 1:
                raise InputError(None, f"profile value {name}={quoted(getattr(self, name))} is invalid: must be >= 1")
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
        raise InputError(path, f"not a valid YAML profile ({_first_line(err)})") from err
    if not isinstance(raw, dict) or set(map(str, raw)) - {"defaults", "stages"}:
        found = ", ".join(map(str, raw)) if isinstance(raw, dict) else f"a {type(raw).__name__}"
        raise InputError(path, f"a profile has two sections, defaults and stages; found {excerpt(found)}")
    stages = _section(raw, "stages", path)
    unknown = sorted(set(map(str, stages)) - set(STAGES))
    if unknown:
        raise InputError(path, f"unknown stage {quoted(unknown[0])} in stages (known: {', '.join(STAGES)})")
    known = {f.name for f in dataclasses.fields(Profile)}
    merged = {}
    for where, section in (
        ("defaults", _section(raw, "defaults", path)),
        (f"stages.{stage}", _section(stages, stage, path)),
    ):
        bad = sorted(set(map(str, section)) - known)
        if bad:
            raise InputError(
                path, f"unknown field {where}.{excerpt(bad[0])} (profile fields: {', '.join(sorted(known))})"
            )
        merged.update(section)
    return _typed_profile(merged, path)


def _first_line(err: Exception) -> str:
    return excerpt((str(err).splitlines() or [type(err).__name__])[0], MESSAGE)


def _section(raw: dict, name: str, path: Path) -> dict:
    """A section of the profile (``defaults``, ``stages``, one stage's): a mapping of names, or nothing."""
    section = raw.get(name) or {}
    if not isinstance(section, dict):
        raise InputError(path, f"{name} must be a mapping of name: value, not {quoted(section)}")
    return section


def _typed_profile(fields: dict, path: Path) -> Profile:
    """The profile of ``fields``, each converted to its declared type as configs are (``nodes: "2"`` is 2) or
    refused in one line (``nodes: 1.5``, ``setup: a line`` where a list of lines belongs), then validated."""
    try:
        profile = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Profile), fields))
    except InputError as err:
        raise InputError(path, err.problem) from err
    except (OmegaConfBaseException, TypeError, ValueError) as err:  # TypeError: a list where a mapping belongs
        raise InputError(path, f"bad profile value: {_first_line(err)}") from None
    if not all(isinstance(line, str) for line in profile.setup):
        raise InputError(path, "setup must be a list of shell lines (strings)")
    return profile


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


def _partitions() -> list[str]:
    """The cluster's partition names (sinfo's %R has no '*' default marker); empty if sinfo cannot tell."""
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%R"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(set(out.split()))


def max_array_size() -> int | None:
    """The cluster's ``MaxArraySize`` (``scontrol show config``; SLURM's default is 1001): an array's task
    ids must be below it. None where scontrol is not here or does not say."""
    if shutil.which("scontrol") is None:
        return None
    try:
        out = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"^\s*MaxArraySize\s*=\s*(\d+)", out, re.MULTILINE)
    return int(found.group(1)) if found else None


def _check_array_size(profile: Profile, where: Path, stage: str) -> None:
    """An array of ``array_size`` tasks (ids 0 to array_size - 1) that SLURM would refuse at submission."""
    limit = max_array_size()
    if limit is not None and profile.array_size > limit:
        raise InputError(
            where,
            f"array_size {profile.array_size} is more than this cluster allows in one job array (its MaxArraySize "
            f"is {limit}); set array_size: {limit} or less in the profile (stages: {stage}: or defaults:), "
            "each task then takes more of the inputs",
        )


def check_profile(profile: Profile, where: Path, array_stage: str | None = None) -> None:
    """Refuse what the cluster cannot give; ``array_stage``: the stage submitted as a job array, whose
    ``array_size`` must fit the cluster's limit."""
    if profile.cluster == "slurm":
        if shutil.which("sbatch") is None:
            raise InputError(where, "cluster: slurm, but no SLURM here (sbatch not found); use --local to run here")
        if array_stage is not None:
            _check_array_size(profile, where, array_stage)
        known = _partitions()
        if profile.partition and known and profile.partition not in known:
            raise InputError(
                where,
                f"partition {quoted(profile.partition)} does not exist on this cluster (it has {', '.join(known)}); "
                "set partition: in the profile",
            )
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
