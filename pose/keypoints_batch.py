"""Many keypoint JSON files of the original SignLLaVA into ``.pose`` files (``signllava import-keypoints``).

Inputs are gathered as ``extract-poses`` gathers videos (:func:`pose.batch.gather_inputs`): files, folders
searched below for ``*.json``, lists of files (``.txt``). A clip named ``<video>.<start>-<end>.json`` is
written to ``OUT/<video>/<video>.<start>-<end>.pose``, so that the original's annotation JSON, whose
sentences are named ``video/clip``, finds it (:mod:`signllava.data.poses` indexes the relative paths); a
file of another name mirrors its path under the folder given. Every file's frame rate is known before
anything is written (:func:`pose.keypoints_json.frame_rate`): one that is not, a missing file or two
inputs that would write one output stop the call with one line.

As in ``extract-poses``: outputs are written atomically under their lock (:func:`pose.io.claim`: two runs
on one folder share the files), existing outputs are skipped unless ``overwrite``, and a bad file is
reported (said once, counted, listed) while the others go on. One file given alone is read before anything
is written, and its error is the call's (``strict``), as ``translate VIDEO`` is.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .batch import BatchReport, Outcome, error_line, gather_inputs, record_outcome
from .errors import InputError
from .holistic import NoSignerWarning
from .io import claim, output_folder, remove_partials, write_pose
from .keypoints_json import SUFFIX, clip_name, frame_rate, read_keypoints


@dataclass
class KeypointJob:
    source: Path
    output: Path
    fps: float


def output_path(source: Path, relative: Path) -> Path:
    """Where a keypoint file's pose goes under the output folder: ``<video>/<clip>.pose`` for a clip named
    ``<video>.<start>-<end>``, else ``relative``'s folders and the clip's name."""
    name = clip_name(source)
    folder = Path(name.video) if name.video is not None else relative.parent
    return folder / f"{name.clip}.pose"


def plan_import(
    inputs: Sequence[str | os.PathLike], output_dir: str | os.PathLike, fps: float | None = None
) -> list[KeypointJob]:
    """Every input's job, sorted by output; bad arguments raise here (a missing file or folder, a file
    whose frame rate nothing says, two inputs that would write one output)."""
    out = Path(output_dir)
    jobs: dict[Path, KeypointJob] = {}
    for source, relative in gather_inputs(inputs, suffixes=(SUFFIX,)):
        if not source.is_file():
            raise InputError(source, "keypoint file not found")
        target = out / output_path(source, relative)
        if target in jobs and jobs[target].source != source:
            raise InputError(source, f"output name collides with {jobs[target].source} (both would write {target})")
        jobs[target] = KeypointJob(source, target, frame_rate(source, fps))
    return [jobs[target] for target in sorted(jobs)]


def import_keypoints(
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    fps: float | None = None,
    size: tuple[int, int] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    strict: bool = False,
    shard: int = 0,
    num_shards: int = 1,
) -> BatchReport:
    """Import every keypoint file of ``inputs`` that has no ``.pose`` yet under ``output_dir`` (all with
    ``overwrite``). ``fps``, ``size``: as :func:`pose.keypoints_json.read_keypoints` takes them.
    ``strict``: a bad file raises its InputError (nothing written) instead of being reported. ``shard`` of
    ``num_shards``: every num_shards-th file from the shard-th, in output order (a SLURM array task's share)."""
    out = output_folder(output_dir)
    jobs = plan_import(inputs, out, fps)[shard::num_shards]
    report = BatchReport(action="imported")
    todo = []
    for job in jobs:
        if job.output.exists() and not overwrite:
            report.skipped.append(str(job.output))
        else:
            todo.append(job)
    if out.is_dir():
        remove_partials(out, owned={job.output for job in jobs})
    start = time.perf_counter()
    with tqdm(total=len(todo), unit="file", desc="keypoints", disable=not progress, dynamic_ncols=True) as bar:
        for job in todo:
            record_outcome(_import_one(job, size, overwrite, strict), report, bar)
            bar.update(1)
            bar.set_postfix(failed=len(report.failed), refresh=False)
    report.wall_seconds = time.perf_counter() - start
    return report


def _import_one(job: KeypointJob, size: tuple[int, int] | None, overwrite: bool, strict: bool) -> Outcome:
    """Read one file, then write its pose under the output's lock (read first: a bad file writes nothing,
    not even a folder); ``busy``/``skipped`` when another run holds the output or has written it meanwhile."""
    outcome = Outcome(str(job.source), str(job.output), "done")
    began = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pose = read_keypoints(job.source, job.fps, size)
        with claim(job.output) as mine:
            if not mine:
                outcome.status = "busy"
            elif job.output.exists() and not overwrite:
                outcome.status = "skipped"
            else:
                write_pose(pose, job.output)
                outcome.frames = len(pose.body.data)
                noted = (w for w in caught if issubclass(w.category, NoSignerWarning))
                outcome.warning = "; ".join(str(w.message) for w in noted)
    except Exception as err:  # one bad file must not stop the batch
        if strict:
            raise
        outcome.status, outcome.error = "failed", error_line(job.source, err)
    outcome.seconds = time.perf_counter() - began
    return outcome
