"""Batch pose extraction: many videos, N worker processes, resumable, shardable.

Each worker process keeps one MediaPipe graph alive for all its videos (reset between videos).
Videos are dispatched longest first to whichever worker is free, so the batch does not end with
one worker grinding through a long video while the others idle. Outputs are written atomically,
finished outputs are skipped on a rerun, and a failing video is logged and summarized without
stopping the batch. Each video is extracted under its output's lock (:func:`pose.io.claim`): two
runs on one output folder at once share the videos instead of each doing them all.
"""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import queue
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .config import ExtractConfig
from .errors import MESSAGE, InputError, excerpt, quoted
from .holistic import HolisticExtractor, NoSignerWarning, prepared, quiet_mediapipe
from .io import atomic_output, claim, make_folder, output_folder, remove_partials, write_pose
from .video import VIDEO_SUFFIXES, is_frame_folder, probe

MANIFEST_SUFFIXES = (".txt", ".lst", ".tsv", ".csv")
MANIFEST_COLUMNS = ("video_path", "path", "video", "VIDEO_PATH", "PATH")
PROGRESS_EVERY = 8  # frames between progress messages from a worker


@dataclass
class Job:
    video: Path
    output: Path
    est_frames: float = 0.0  # for ordering (longest first) and the progress bar


@dataclass
class Outcome:
    video: str
    output: str
    status: str  # done | failed | busy (another run holds its output) | skipped (its output appeared meanwhile)
    frames: int = 0
    seconds: float = 0.0
    error: str = ""
    warning: str = ""


@dataclass
class BatchReport:
    done: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # outputs another run was writing: left to it
    wall_seconds: float = 0.0
    action: str = "extracted"  # what was done to each input, for the summary (``translate`` shares the report)

    @property
    def frames(self) -> int:
        return sum(o.frames for o in self.done)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def summary(self) -> str:
        """One line of counts: each failure and warning was printed once, as it happened."""
        warned = sum(1 for o in self.done if o.warning)
        return (
            f"{len(self.done)} {self.action}, {len(self.skipped)} already done (skipped), "
            + (f"{len(self.busy)} being {self.action} by another run (skipped), " if self.busy else "")
            + f"{len(self.failed)} failed"
            + (f", {warned} with a warning" if warned else "")
            + f"; {self.frames} frames in {self.wall_seconds:.1f} s ({self.fps:.1f} frames/s)"
        )


def error_line(path: str | os.PathLike, err: Exception) -> str:
    """One line for an input's failure: an InputError names its input already; another error gets
    the input and its type (a decoder's or a library's error may not say which file it was)."""
    return str(err) if isinstance(err, InputError) else f"{path}: {type(err).__name__}: {excerpt(err, MESSAGE)}"


# --- planning ------------------------------------------------------------------------------------


def read_manifest(path: Path, suffixes: Sequence[str] = VIDEO_SUFFIXES) -> list[Path]:
    """Input paths from a manifest: one per line (.txt/.lst) or a ``video_path``/``path`` column
    (.tsv/.csv); each must end in one of ``suffixes`` (videos by default). Relative paths are
    relative to the manifest's folder."""
    if not path.is_file():
        raise InputError(path, "manifest not found")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".tsv", ".csv"):
        delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in text.splitlines()[0] else ","
        rows = list(csv.DictReader(text.splitlines(), delimiter=delimiter))
        columns = rows[0].keys() if rows else []
        column = next((c for c in MANIFEST_COLUMNS if c in columns), None)
        if column is None:
            raise InputError(path, f"manifest has no video path column (expected one of {', '.join(MANIFEST_COLUMNS)})")
        entries = [(i + 2, (r[column] or "").strip()) for i, r in enumerate(rows)]
    else:
        entries = [(i + 1, line.strip()) for i, line in enumerate(text.splitlines())]
    videos = []
    for row, entry in entries:
        if not entry or entry.startswith("#"):
            continue
        p = Path(entry)
        videos.append(p if p.is_absolute() else path.parent / p)
        if p.suffix.lower() not in suffixes:
            raise InputError(
                path, f"row {row}: {quoted(entry)} is not a file name of the inputs ({', '.join(suffixes)})"
            )
    return videos


def gather_inputs(
    inputs: Sequence[str | os.PathLike],
    recursive: bool = True,
    suffixes: Sequence[str] = VIDEO_SUFFIXES,
    frame_folders: bool = True,
) -> Iterator[tuple[Path, Path]]:
    """Yield ``(input file, its path relative to the folder or manifest that named it)`` for each
    input folder (files ending in one of ``suffixes``; sub-folders too if ``recursive``), manifest
    (:func:`read_manifest`) or file. A missing file is yielded too (to fail as that input, not as a
    bad argument) when its name ends in one of ``suffixes``. Where videos are gathered, a folder of
    numbered images is one video (:func:`pose.video.is_frame_folder`), given or found below a folder."""
    suffixes = tuple(s.lower() for s in suffixes)
    kinds = "videos" if suffixes == VIDEO_SUFFIXES else "inputs"
    frames = frame_folders and kinds == "videos"
    for item in map(Path, inputs):
        if frames and is_frame_folder(item):  # one video stored as numbered images
            yield item, Path(item.name)
        elif item.is_dir():
            pattern = item.rglob("*") if recursive else item.glob("*")
            found = sorted(p for p in pattern if (p.is_file() and p.suffix.lower() in suffixes))
            if frames:  # and the frame folders below it (PHOENIX's <split>/<name>/images0001.png ...)
                found = sorted({*found, *(p for p in _folders(item, recursive) if is_frame_folder(p))})
            if not found:
                where = "in this folder or below" if recursive else "in this folder"
                looked = ", ".join(suffixes) + (", or folders of frames" if frames else "")
                raise InputError(item, f"no {kinds} {where} (looked for {looked})")
            for video in found:
                yield video, video.relative_to(item)
        elif item.suffix.lower() in MANIFEST_SUFFIXES:
            listed = read_manifest(item, suffixes)
            if not listed:
                raise InputError(item, f"manifest lists no {kinds}")
            for video in listed:
                try:
                    rel = video.resolve().relative_to(item.parent.resolve())
                except ValueError:
                    rel = Path(video.name)
                yield video, rel
        elif item.exists() or item.suffix.lower() in suffixes:
            yield item, Path(item.name)
        else:
            one = "a video" if kinds == "videos" else f"an input ({', '.join(suffixes)})"
            raise InputError(item, f"not found (expected {one}, a folder of {kinds} or a manifest)")


def _folders(root: Path, recursive: bool) -> Iterator[Path]:
    yield root
    yield from (p for p in (root.rglob("*") if recursive else root.glob("*")) if p.is_dir())


def plan_outputs(
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    suffix: str,
    recursive: bool = True,
    suffixes: Sequence[str] = VIDEO_SUFFIXES,
) -> list[tuple[Path, Path]]:
    """``(input, output)`` for every input of :func:`gather_inputs`, the output under ``output_dir``
    mirroring the input's folders with the input's suffix replaced by ``suffix``; sorted by output.
    Two inputs that would write one output are refused."""
    out = Path(output_dir)
    by_output: dict[Path, Path] = {}
    for video, rel in gather_inputs(inputs, recursive, suffixes):
        # a frame folder's name is kept whole (its dots are no suffix)
        target = out / (rel.parent / (rel.name + suffix) if video.is_dir() else rel.with_suffix(suffix))
        if target in by_output and by_output[target] != video:
            raise InputError(video, f"output name collides with {by_output[target]} (both would write {target})")
        by_output[target] = video
    return [(video, target) for target, video in sorted(by_output.items())]


def plan(inputs: Sequence[str | os.PathLike], output_dir: str | os.PathLike, config: ExtractConfig) -> list[Job]:
    """All jobs of this shard, before skipping finished ones. Sorted by output path."""
    jobs = [Job(video, target) for video, target in plan_outputs(inputs, output_dir, ".pose", config.recursive)]
    return jobs[config.shard :: config.num_shards]


# --- workers -------------------------------------------------------------------------------------

_extractor = None
_progress: mp.Queue | None = None
_video_config = None
_overwrite = False


def _init_worker(config: ExtractConfig, progress_queue, mute_fd2: bool = False) -> None:
    global _extractor, _progress, _video_config, _overwrite

    if mute_fd2 and os.environ.get("SIGNLLAVA_MEDIAPIPE_LOGS") != "1":
        # a pool worker reports through its return values; its fd 2 only carries MediaPipe's logs
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    _extractor = HolisticExtractor(config.holistic)
    _video_config = config.video
    _overwrite = config.overwrite
    _progress = progress_queue


def _report_progress(n: int) -> None:
    if _progress is not None:
        _progress.put(n)


def _extract_one(job: Job) -> Outcome:
    """Extract one video under its output's lock; another run holding it, or having finished the output
    since this batch was planned, leaves the video to that run."""
    with claim(job.output) as mine:
        if not mine:
            return Outcome(str(job.video), str(job.output), "busy")
        if job.output.exists() and not _overwrite:
            return Outcome(str(job.video), str(job.output), "skipped")
        return _extract_claimed(job)


def _extract_claimed(job: Job) -> Outcome:
    start = time.perf_counter()
    pending = [0]

    def on_frame(n: int) -> None:
        pending[0] += n
        if pending[0] >= PROGRESS_EVERY:
            _report_progress(pending[0])
            pending[0] = 0

    outcome = Outcome(str(job.video), str(job.output), "done")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pose = _extractor.process_video(job.video, _video_config, on_frame=on_frame)
        write_pose(pose, job.output)
        outcome.frames = len(pose.body.data)
        outcome.warning = "; ".join(str(w.message) for w in caught if issubclass(w.category, NoSignerWarning))
    except Exception as err:  # one bad video must not stop the batch
        outcome.status, outcome.error = "failed", error_line(job.video, err)
    _report_progress(pending[0])
    outcome.seconds = time.perf_counter() - start
    return outcome


# --- driver --------------------------------------------------------------------------------------


def _probe_frames(video: Path, config: ExtractConfig) -> int:
    """Frames the video will produce according to the container; 0 if the probe fails."""
    try:
        info = probe(video, config.video.backend, config.video.frames_fps)
    except Exception:
        return 0  # the worker will report the real error
    fps = config.video.target_fps or info.fps
    return max(1, round(info.num_frames * fps / info.fps))


class FrameEstimate:
    """Frames still to come of many inputs, estimated from file sizes: probing every container
    costs ~9 ms a video (5 minutes for How2Sign), so a few (``frames_of``) are probed for frames
    per byte, and finished inputs refine it."""

    SAMPLE = 16

    def __init__(self, paths: Sequence[Path], frames_of: Callable[[Path], int]):
        self.size = {p: (p.stat().st_size if p.is_file() else 0) for p in paths}
        sample = list(paths)[:: max(1, len(paths) // self.SAMPLE)][: self.SAMPLE]
        probed = [(frames_of(p), self.size[p]) for p in sample]
        self.frames = sum(f for f, _ in probed)
        self.bytes = sum(b for f, b in probed if f)
        self.remaining = sum(self.size.values())
        self.done_frames = 0

    @property
    def per_byte(self) -> float:
        return self.frames / self.bytes if self.bytes else 0.0

    def of(self, path: Path) -> float:
        """The estimated frames of one input."""
        return self.per_byte * self.size.get(path, 0)

    def total(self) -> int:
        return round(self.done_frames + self.per_byte * self.remaining)

    def finished(self, path: Path, frames: int) -> None:
        size = self.size.pop(path, 0)
        self.remaining -= size
        self.done_frames += frames
        if frames and size:
            self.frames += frames
            self.bytes += size


def _drain(progress_queue, bar: tqdm) -> None:
    while True:
        try:
            bar.update(progress_queue.get_nowait())
        except queue.Empty:
            return


def _record(
    outcome: Outcome, report: BatchReport, bar: tqdm, estimate: FrameEstimate | None = None, job: Job | None = None
) -> None:
    if estimate is not None and job is not None:
        estimate.finished(job.video, outcome.frames)
        total = max(estimate.total(), bar.n)
        if abs(total - (bar.total or 0)) > 0.02 * total:  # an estimate: move it only when it is off by much
            bar.total = total
    record_outcome(outcome, report, bar)
    bar.set_postfix(videos=len(report.done), failed=len(report.failed), refresh=False)


def record_outcome(outcome: Outcome, report: BatchReport, bar: tqdm) -> None:
    """One input's outcome counted in ``report`` by its status; a warning or a failure said once, above ``bar``."""
    if outcome.status == "done":
        report.done.append(outcome)
        if outcome.warning:
            bar.write(f"warning: {outcome.warning}", file=sys.stderr)
    elif outcome.status == "busy":
        report.busy.append(outcome.output)
    elif outcome.status == "skipped":
        report.skipped.append(outcome.output)
    else:
        report.failed.append(outcome)
        bar.write(f"failed: {outcome.error}", file=sys.stderr)


class _BarSink:
    """Progress sink for in-process extraction (the pool uses a multiprocessing queue)."""

    def __init__(self, bar: tqdm):
        self.bar = bar

    def put(self, n: int) -> None:
        self.bar.update(n)


def _run_in_process(
    jobs: list[Job], config: ExtractConfig, report: BatchReport, bar: tqdm, estimate: FrameEstimate
) -> None:
    global _extractor
    _init_worker(config, _BarSink(bar))
    try:
        for job in jobs:
            _record(_extract_one(job), report, bar, estimate, job)
    finally:
        _extractor.close()
        _extractor = None


def _run_pool(
    jobs: list[Job], config: ExtractConfig, workers: int, report: BatchReport, bar: tqdm, estimate: FrameEstimate
) -> list[Job]:
    """Run ``jobs`` on a process pool; return the jobs lost to a crashed worker (to retry)."""
    ctx = mp.get_context("spawn")  # MediaPipe and fork do not mix
    progress_queue = ctx.Queue()
    lost: list[Job] = []
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_worker, initargs=(config, progress_queue, True)
    ) as pool:
        futures = {pool.submit(_extract_one, job): job for job in jobs}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                _drain(progress_queue, bar)
                for future in done:
                    try:
                        _record(future.result(), report, bar, estimate, futures[future])
                    except BrokenProcessPool:
                        lost.append(futures[future])
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    _drain(progress_queue, bar)
    return lost


def run_batch(
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    config: ExtractConfig | None = None,
    progress: bool = True,
    on_start: Callable[[list[Job]], None] | None = None,
) -> BatchReport:
    """Extract every video of this shard that has no ``.pose`` yet under ``output_dir``. Bad inputs
    raise before anything is written; ``on_start(jobs)`` runs once the output folder exists.
    ``config.holistic`` is completed in place with what the extraction uses (the Tasks bundle's
    sha256, the bundle built once here rather than in every worker), so a config saved by
    ``on_start`` records it."""
    config = config or ExtractConfig()
    out = output_folder(output_dir)
    jobs = plan(inputs, out, config)
    config.holistic = prepared(config.holistic)
    make_folder(out)
    if on_start is not None:
        on_start(jobs)
    remove_partials(out, owned={job.output for job in jobs})
    report = BatchReport()
    todo = []
    for job in jobs:
        if job.output.exists() and not config.overwrite:
            report.skipped.append(str(job.output))
        else:
            todo.append(job)
    if not todo:
        return report
    estimate = FrameEstimate([j.video for j in todo], lambda video: _probe_frames(video, config))
    for job in todo:
        job.est_frames = estimate.of(job.video)
    todo.sort(key=lambda j: -j.est_frames)  # longest first: the tail of the batch stays balanced
    workers = max(1, min(config.workers or os.cpu_count() or 1, len(todo)))
    start = time.perf_counter()
    desc = f"poses ({workers} worker{'s' if workers > 1 else ''})"
    with (
        quiet_mediapipe(),
        tqdm(
            total=estimate.total(),
            unit="frame",
            desc=desc,
            disable=not progress,
            dynamic_ncols=True,
            smoothing=0.1,
        ) as bar,
    ):
        if workers == 1:
            _run_in_process(todo, config, report, bar, estimate)
        else:
            lost = _run_pool(todo, config, workers, report, bar, estimate)
            if lost and not report.done and not report.failed:
                raise RuntimeError(
                    "pose worker processes died before finishing any video; if run_batch is called from a "
                    "script, put the call under `if __name__ == '__main__':` (workers are spawned); "
                    "set SIGNLLAVA_MEDIAPIPE_LOGS=1 to see MediaPipe's own messages"
                )
            if lost:  # a worker died (e.g. out of memory): retry its videos once in a fresh pool
                bar.write(f"a worker process died; retrying {len(lost)} video(s)", file=sys.stderr)
                for job in _run_pool(lost, config, min(workers, len(lost)), report, bar, estimate):
                    _record(
                        Outcome(
                            str(job.video),
                            str(job.output),
                            "failed",
                            error=f"{job.video}: worker process died while extracting it",
                        ),
                        report,
                        bar,
                    )
        bar.total = bar.n  # the count is known now: end at 100 %
        bar.refresh()
    report.wall_seconds = time.perf_counter() - start
    return report


def write_failures(report: BatchReport, path: str | os.PathLike) -> None:
    """Write failed videos as TSV (video, error), atomically."""
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(["video", "error"])
        for o in report.failed:
            writer.writerow([o.video, o.error])
