"""Progress of ``translate`` and ``ask`` on a terminal: one input's stages, or many inputs' frames.

Both are :data:`signllava.inference.pose_source.Progress` callbacks (``progress(input, stage, done, total)``),
set as a :class:`~signllava.inference.translator.Translator`'s ``progress``. The callers decide whether to show
them (the CLI: only when stderr is a terminal and without ``-q``), so captured output stays clean.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm import tqdm

from pose.batch import FrameEstimate

# what each stage's bar counts; an encoder stream is one step (its name is the stage)
UNITS = {"poses": "frame", "decoding": "frame"}


class StageBars:
    """One input at a time on the terminal: a bar per stage (poses, encoder streams, decoding), each
    with its own rate and ETA, replaced by the next stage's. Poses may be reported from a prefetch
    thread while the main thread loads the model, hence the lock."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bar: tqdm | None = None
        self._key: tuple[Path, str] | None = None
        self._lock = threading.Lock()

    def __call__(self, path: Path, stage: str, done: int, total: int) -> None:
        if not self.enabled or stage == "features":  # features: a count for the caller, no stage of its own
            return
        with self._lock:
            if self._key != (path, stage):
                self._close()
                self._key = (path, stage)
                unit = UNITS.get(stage, "step")
                self._bar = tqdm(total=total, desc=f"{path.name}: {stage}", unit=unit, leave=False, dynamic_ncols=True)
            self._bar.total = max(total, done)
            self._bar.update(done - self._bar.n)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._key = None, None

    def close(self) -> None:
        with self._lock:
            self._close()


class BatchBar:
    """Many inputs on the terminal: one bar over all their frames (ETA at the pace inputs are done),
    with inputs done, of how many, and failures. It advances as each input decodes (``translate``)
    or when it is done (``ask``); the total is estimated from file sizes and a few probes
    (:class:`pose.batch.FrameEstimate`) and refined as inputs finish. It also counts each input's
    frames (the ``features`` stage) for the report, shown or not."""

    def __init__(self, paths: Sequence[Path], frames_of: Callable[[Path], int], enabled: bool = True):
        self.count = len(paths)
        self.estimate = FrameEstimate(paths, frames_of) if enabled else None
        self.frames: dict[Path, int] = {}
        self._shown: dict[Path, int] = {}  # frames of each input the bar has counted
        self.done = self.failed = 0
        self.bar = tqdm(
            total=self.estimate.total() if self.estimate else 0,
            unit="frame",
            desc=self._desc(),
            disable=not enabled,
            dynamic_ncols=True,
            smoothing=0.1,
        )

    def _desc(self) -> str:
        return f"inputs {self.done + self.failed}/{self.count}" + (f" ({self.failed} failed)" if self.failed else "")

    def __call__(self, path: Path, stage: str, done: int, total: int) -> None:
        if stage == "features":
            self.frames[path] = total
        elif stage == "decoding":
            self._advance(path, done)

    def _advance(self, path: Path, frames: int) -> None:
        self.bar.update(max(0, frames - self._shown.get(path, 0)))
        self._shown[path] = max(frames, self._shown.get(path, 0))

    def finished(self, path: Path, ok: bool) -> int:
        """Count an input as done (or failed); return its frames (0 where unknown)."""
        frames = self.frames.get(path, 0) if ok else 0
        self._advance(path, frames)
        if ok:
            self.done += 1
        else:
            self.failed += 1
        if self.estimate is not None:
            self.estimate.finished(path, self._shown.get(path, 0))
            self.bar.total = max(self.estimate.total(), self.bar.n)
        self.bar.set_description(self._desc(), refresh=False)
        self.bar.refresh()
        return frames

    def passed(self, path: Path) -> None:
        """An input left to another run (it writes that output): out of the count and the estimate."""
        self.count -= 1
        if self.estimate is not None:
            self.estimate.finished(path, 0)
            self.bar.total = max(self.estimate.total(), self.bar.n)
        self.bar.set_description(self._desc(), refresh=False)

    def write(self, line: str) -> None:
        """A line on stderr, above the bar where one is shown."""
        tqdm.write(line, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
