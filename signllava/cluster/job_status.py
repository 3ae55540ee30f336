"""What became of submitted jobs: ``signllava jobs RUN`` and ``signllava submit --wait``.

States come from the scheduler while it remembers a job (``scontrol show job``: pending, running,
requeued, cancelled ... until ``MinJobAge`` after the end), and from submitit's result files
afterwards (written when a task returns or raises; a job killed from outside leaves none).
Extraction runs also report their shards: done, failed, or missing (never finished).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from pose.errors import InputError
from pose.plain_pickle import loads_plain

from .launcher import JOBS_FILE
from .stages import STAGES, ExtractPosesConfig

FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"}


@dataclass
class TaskState:
    key: str  # "12" or "12_3" (array task)
    state: str  # the scheduler's word (RUNNING, COMPLETED, CANCELLED ...), or from the result file
    restarts: int = 0
    error: str = ""  # last line of the task's exception, if it raised


@dataclass
class JobStatus:
    stage: str
    job_id: str
    tasks: list[TaskState] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return bool(self.tasks) and all(t.state in FINISHED for t in self.tasks)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.tasks:
            out[t.state] = out.get(t.state, 0) + 1
        return out


def _scontrol(job_id: str) -> dict[str, TaskState]:
    """The scheduler's view of a job (array tasks expanded), empty when it no longer knows it."""
    if shutil.which("scontrol") is None:
        return {}
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, timeout=30)
    states = {}
    for line in out.stdout.splitlines():
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        if "JobState" not in fields:
            continue
        task = fields.get("ArrayTaskId", "N/A")
        if task != "N/A" and not task.isdigit():  # pending tasks not yet split off: "4-7" or "4-7%2"
            for i in _expand(task.split("%")[0]):
                states[f"{job_id}_{i}"] = TaskState(f"{job_id}_{i}", fields["JobState"])
            continue
        key = fields["JobId"] if task == "N/A" else f"{fields.get('ArrayJobId', job_id)}_{task}"
        states[key] = TaskState(key, fields["JobState"], int(fields.get("Restarts", "0")))
    return states


def _expand(ranges: str) -> list[int]:
    out = []
    for part in ranges.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def _from_results(logs: Path, key: str) -> TaskState | None:
    """Task 0's submitit result file: ("success", value) or ("error", traceback)."""
    result = logs / key / f"{key}_0_result.pkl"
    if not result.is_file():
        return None
    try:  # a run folder may come from elsewhere: read its plain parts, build nothing the file names
        outcome, value = loads_plain(result.read_bytes(), result, inert=True)
    except (InputError, OSError, ValueError, TypeError):  # half-written, or from another submitit version
        return None
    if outcome == "success":
        return TaskState(key, "COMPLETED")
    return TaskState(key, "FAILED", error=str(value).strip().splitlines()[-1] if value else "")


def job_status(logs: Path, record: dict) -> JobStatus:
    job_id, n = record["job_id"], int(record["tasks"])
    stage = STAGES.get(record["stage"])
    array = stage.array if stage is not None else int(record["tasks"]) > 1  # a stage this version lacks
    keys = [f"{job_id}_{i}" for i in range(n)] if array else [job_id]
    live = _scontrol(job_id) if record.get("cluster") == "slurm" else {}
    status = JobStatus(record["stage"], job_id)
    if "state" in record:  # ran in-process (--local): its outcome was recorded on the spot
        status.tasks = [TaskState(key, record["state"]) for key in keys]
        return status
    for key in keys:
        state = live.get(key)
        done = _from_results(logs, key)
        if state is not None and state.state == "FAILED" and done is not None:
            state.error = done.error
        if state is None:
            state = done or TaskState(key, "UNKNOWN")
        status.tasks.append(state)
    return status


def records(run: str | Path) -> tuple[Path, list[dict]]:
    logs = Path(run) / "slurm"
    path = logs / JOBS_FILE
    if not path.is_file():
        raise InputError(Path(run), f"no jobs were submitted for this run (no {path})")
    return logs, [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def shard_summary(run: Path, logs: Path, shards: int) -> dict:
    """Extraction progress from the outputs themselves: done / failed / missing per shard and video."""
    from pose.batch import plan
    from pose.config_loader import load_config

    cfg = load_config(ExtractPosesConfig, logs / "extract-poses.yaml")
    summary = {"shards_done": [], "shards_failed": [], "shards_missing": [], "videos": 0, "videos_done": 0}
    for shard in range(shards):
        extract = cfg.extract.__class__(**{**cfg.extract.__dict__, "shard": shard, "num_shards": shards})
        expected = plan(cfg.inputs, run, extract)
        done = sum(job.output.is_file() for job in expected)
        summary["videos"] += len(expected)
        summary["videos_done"] += done
        report = logs / "shards" / f"shard-{shard:05d}.json"
        failed = report.is_file() and json.loads(report.read_text())["failed"]
        kind = "shards_done" if done == len(expected) else "shards_failed" if failed else "shards_missing"
        summary[kind].append(shard)
    return summary


def status_lines(run: str | Path) -> list[str]:
    """Lines for ``signllava jobs RUN``: every recorded submission, its tasks, and what is done."""
    logs, recs = records(run)
    lines = []
    for record in recs:
        status = job_status(logs, record)
        counts = ", ".join(f"{n} {s}" for s, n in sorted(status.counts().items()))
        restarts = sum(t.restarts for t in status.tasks)
        lines.append(
            f"job {record['job_id']} {record['stage']} ({record['tasks']} task{'s' if record['tasks'] > 1 else ''}, "
            f"submitted {record['submitted']}): {counts}" + (f", requeued {restarts}x" if restarts else "")
        )
        for t in status.tasks:
            if t.state == "CANCELLED":
                lines.append(f"  {t.key} was cancelled: rerun the same submit command to finish it (it resumes)")
            elif t.error:
                lines.append(f"  {t.key} failed: {t.error}")
        lines.append(f"  logs: {logs / (record['job_id'] + ('_*' if record['tasks'] > 1 else ''))}")
    last_extract = [r for r in recs if r["stage"] == "extract-poses"]
    if last_extract:
        s = shard_summary(Path(run), logs, int(last_extract[-1]["tasks"]))
        which = {k: f" {s[k]}" if s[k] else "" for k in ("shards_failed", "shards_missing")}
        lines.append(
            f"shards: {len(s['shards_done'])} done, {len(s['shards_failed'])} with failures{which['shards_failed']}, "
            f"{len(s['shards_missing'])} missing{which['shards_missing']}"
        )
        lines.append(f"videos: {s['videos_done']} of {s['videos']} have poses")
    return lines


def wait(logs: Path, record: dict, poll_s: float = 2.0, timeout_s: float | None = None) -> JobStatus:
    """Block until every task of the job has finished (requeues included); return the final status."""
    start = time.monotonic()
    while True:
        status = job_status(logs, record)
        if status.finished:
            return status
        if timeout_s is not None and time.monotonic() - start > timeout_s:
            raise TimeoutError(f"job {record['job_id']} not finished after {timeout_s:.0f} s: {status.counts()}")
        time.sleep(poll_s)
