"""Many inputs through one loaded model: ``signllava translate A.mp4 B.mp4 folder/ list.txt -o OUT/`` (and ``ask``).

The inputs are gathered as ``extract-poses`` gathers its videos (:func:`pose.batch.plan_outputs`):
videos and .pose files, folders of them (mirrored under the output folder), manifests. One output
per input is written atomically (``OUT/<relative path>/<stem>.txt``, ``.json``, ``.srt``, ``.vtt``
by format; ``<stem>.answer.txt`` for ``ask``), inputs whose output exists are skipped (a rerun does
what is left; a run writing the same folder at once leaves each input the other holds the lock of,
:func:`pose.io.claim`), the next input's poses are extracted while the current one decodes, and a failing
input is recorded in the report (:class:`pose.batch.BatchReport`, as ``extract-poses`` reports)
while the others go on::

    translator = Translator.load("runs/stage2/last")
    report = translate_many(translator, ["clips/", "more.txt"], "out/", fmt="srt")
    print(report.summary())
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pose.batch import BatchReport, Job, Outcome, error_line, plan_outputs, write_failures
from pose.io import atomic_output, claim, pose_seconds, remove_partials
from pose.video import VIDEO_SUFFIXES, probe

from .progress import BatchBar
from .subtitles import format_segments
from .translator import Translator

INPUT_SUFFIXES = (*VIDEO_SUFFIXES, ".pose")
FORMAT_SUFFIXES = {"text": ".txt", "json": ".json", "srt": ".srt", "vtt": ".vtt"}
ANSWER_SUFFIX = ".answer.txt"


@dataclass
class Batch:
    """Planned work: the inputs still to do with their outputs, and the outputs already there."""

    output_dir: Path
    jobs: list[Job]
    skipped: list[str]
    overwrite: bool = False  # redo inputs whose output exists (else one that appears meanwhile is left)

    @property
    def inputs(self) -> list[Path]:
        return [job.video for job in self.jobs]

    def report(self, action: str) -> BatchReport:
        """An empty report of this batch (its skipped outputs counted) that its run fills."""
        return BatchReport(skipped=list(self.skipped), action=action)


def plan_batch(
    inputs: Sequence[str | os.PathLike], output_dir: str | os.PathLike, suffix: str, overwrite: bool = False
) -> Batch:
    """Every input's output under ``output_dir`` (its name ending in ``suffix``); those that exist
    are skipped unless ``overwrite``. Bad arguments (a missing folder or manifest, two inputs that
    would write one output) raise :class:`~pose.errors.InputError` here, before any model loads."""
    out = Path(output_dir)
    jobs, skipped = [], []
    for source, target in plan_outputs(inputs, out, suffix, suffixes=INPUT_SUFFIXES):
        if target.exists() and not overwrite:
            skipped.append(str(target))
        else:
            jobs.append(Job(source, target))
    return Batch(out, jobs, skipped, overwrite)


def translate_batch(
    translator: Translator,
    batch: Batch,
    fmt: str = "text",
    context: Sequence[str] = (),
    num_beams: int = 5,
    max_new_tokens: int = 100,
    progress: bool = False,
    verbose: bool = False,
) -> BatchReport:
    """Translate every input of ``batch`` into its output file in ``fmt`` (text, json, srt, vtt);
    ``context``: preceding text given to each input alike. ``progress``: a bar on stderr (inputs,
    frames, ETA); ``verbose``: each input's time per stage on stderr."""

    def produce(path: Path) -> str:
        segments = translator.translate(path, context=context, num_beams=num_beams, max_new_tokens=max_new_tokens)
        warning = translator.hands_warning(segments, path)
        if warning:  # said as it happens, and kept in the output where the format has room (json)
            _say(f"warning: {warning}")
        return format_segments(segments, fmt, str(path), warning)

    return _run(translator, batch, "translated", produce, progress, verbose)


def ask_batch(
    translator: Translator, batch: Batch, question: str, progress: bool = False, verbose: bool = False
) -> BatchReport:
    """Ask ``question`` of every input of ``batch``; each answer is written to its output (one line)."""

    def produce(path: Path) -> str:
        answer = translator.ask(path, question)
        warning = translator.video_hands_warning(path)
        if warning:
            _say(f"warning: {warning}")
        return answer + "\n"

    return _run(translator, batch, "answered", produce, progress, verbose)


def _say(line: str) -> None:
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)  # above a progress bar, if one is drawn


def translate_many(
    translator: Translator,
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    fmt: str = "text",
    overwrite: bool = False,
    **kwargs,
) -> BatchReport:
    """:func:`plan_batch` then :func:`translate_batch` (its other arguments)."""
    batch = plan_batch(inputs, output_dir, FORMAT_SUFFIXES[fmt], overwrite)
    return translate_batch(translator, batch, fmt, **kwargs)


def ask_many(
    translator: Translator,
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    question: str,
    overwrite: bool = False,
    **kwargs,
) -> BatchReport:
    """:func:`plan_batch` then :func:`ask_batch` (its other arguments)."""
    return ask_batch(translator, plan_batch(inputs, output_dir, ANSWER_SUFFIX, overwrite), question, **kwargs)


def write_failure_list(report: BatchReport, output_dir: str | os.PathLike, name: str) -> Path | None:
    """The failed inputs as ``output_dir/<name>.failures.tsv`` (input, error); None when none
    failed, and then a list left by an earlier run is removed: its inputs are done now."""
    path = Path(output_dir) / f"{name}.failures.tsv"
    if not report.failed:
        path.unlink(missing_ok=True)
        return None
    write_failures(report, path)
    return path


def estimated_frames(fps: float | None) -> Callable[[Path], int]:
    """An input's frames at the model's frame rate (``fps``; None: its own), from its header alone
    (for the progress bar's total; 0 where it cannot be read)."""

    def frames(path: Path) -> int:
        try:
            if path.suffix == ".pose":
                return round(pose_seconds(path) * (fps or 25.0))
            info = probe(path)
            return round(info.duration * (fps or info.fps))
        except Exception:
            return 0

    return frames


def _produce(job: Job, produce: Callable[[Path], str], overwrite: bool) -> Outcome:
    """One input into its output, under the output's lock: ``skipped`` when the output appeared since
    the batch was planned (another run finished it), ``failed`` with the error of a bad input."""
    outcome = Outcome(str(job.video), str(job.output), "done")
    if job.output.exists() and not overwrite:
        outcome.status = "skipped"
        return outcome
    try:
        # the temporary file is there while the input is worked on: an error or a kill leaves no output
        with atomic_output(job.output) as tmp:
            tmp.write_text(produce(job.video), encoding="utf-8")
    except Exception as err:  # one bad input must not stop the others
        outcome.status, outcome.error = "failed", error_line(job.video, err)
    return outcome


def _run(
    translator: Translator,
    batch: Batch,
    action: str,
    produce: Callable[[Path], str],
    progress: bool,
    verbose: bool,
) -> BatchReport:
    report = batch.report(action)
    jobs = batch.jobs
    remove_partials(batch.output_dir, owned={job.output for job in jobs} | {Path(s) for s in batch.skipped})
    start = time.perf_counter()
    bar = BatchBar(batch.inputs, estimated_frames(translator.target_fps), enabled=progress)
    previous = translator.progress
    translator.progress = bar  # it also counts each input's frames for the report
    try:
        for i, job in enumerate(jobs):
            # this input's poses (unless already on their way), then the next one's: extracted while this one
            # decodes; prefetches run in order, so this one never waits for the next
            translator.prefetch([j.video for j in jobs[i : i + 2]])
            began = time.perf_counter()
            with claim(job.output) as mine:
                outcome = _produce(job, produce, batch.overwrite) if mine else None
            if outcome is None or outcome.status == "skipped":  # another run is writing it, or wrote it meanwhile
                (report.busy if outcome is None else report.skipped).append(str(job.output))
                bar.passed(job.video)
                continue
            outcome.seconds = time.perf_counter() - began
            outcome.frames = bar.finished(job.video, outcome.status == "done")
            (report.done if outcome.status == "done" else report.failed).append(outcome)
            if outcome.error:  # said once, as it happens (the summary counts it; the failure list names it)
                bar.write(f"failed: {outcome.error}")
            elif verbose:
                bar.write(f"{job.video}: {translator.timings.summary()}")
    finally:
        translator.progress = previous
        bar.close()
    report.wall_seconds = time.perf_counter() - start
    return report
