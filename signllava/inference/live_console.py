"""``signllava live`` on a console: cues on stdout and appended to a file as they come, progress and
latency on stderr, a window with ``--show``, and Ctrl-C, which stops the source and still translates
the segment in progress.

Every cue is written whole and flushed (and synced, for a file) before the next, so whatever stops the
run, the file holds every finished cue and no half of one; a file is made only with its first cue.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from tqdm import tqdm

from pose.errors import InputError

from .hands import hands_warning
from .live import LiveConfig, LiveCue, LivePipeline
from .live_source import FrameReader
from .subtitles import cue_header, format_cue


class CueFile:
    """Cues in ``fmt`` appended to ``path`` one at a time (the file is created, or replaced, with the
    first), each flushed to the disk before the next."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = Path(path), fmt
        self._file = None
        self.count = 0

    def write(self, cue: LiveCue) -> None:
        if self._file is None:
            self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (held open for the run)
            self._file.write(cue_header(self.fmt))
        self._file.write(format_cue(cue.segment, self.fmt, cue.number, cue.extra()))
        self._file.flush()
        os.fsync(self._file.fileno())
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def run_live(
    translator,
    reader: FrameReader,
    config: LiveConfig,
    fmt: str = "text",
    output: Path | None = None,
    show: bool = False,
    verbose: bool = False,
    progress: bool = False,
) -> int:
    """Run the pipeline until the source ends or Ctrl-C; returns the exit code: 0, or 1 when the
    source broke off mid-way (said in one ``error:`` line after the cues it gave). A source that gave
    no frame at all is bad input (:class:`InputError`)."""
    from .live_view import LiveView, LiveWindow

    lock = threading.Lock()
    bar = tqdm(desc=f"live {reader.source.name}", unit="frame", disable=not progress, dynamic_ncols=True, leave=False)
    out = CueFile(output, fmt) if output is not None else None
    stdout_fmt = "text" if out is not None else fmt
    view = LiveView(translator.holistic) if show else None
    warned = []

    closed = []  # the run is over for the console (a second Ctrl-C): no more output

    def on_cue(cue: LiveCue) -> None:
        s = cue.segment
        with lock:
            if closed:
                return
            if out is not None:
                out.write(cue)
            if stdout_fmt in ("srt", "vtt") and cue.number == 1 and cue_header(stdout_fmt):
                bar.write(cue_header(stdout_fmt), file=sys.stdout, end="")
            bar.write(format_cue(s, stdout_fmt, cue.number, cue.extra()), file=sys.stdout, end="")
            sys.stdout.flush()
            note = hands_warning([s], translator.hands, f"{s.start:.1f}-{s.end:.1f} s")
            if note and not warned:
                warned.append(note)
                bar.write(f"warning: {note} (and so for any later segment marked so with -v)", file=sys.stderr)
            if verbose:
                signs = "" if s.glosses is None else f"; signs recognized: {' '.join(s.glosses) or '(none)'}"
                hands = f"; hands in {100 * s.hands_found:.0f} % of frames" if s.hands_found is not None else ""
                bar.write(
                    f"[{s.start:.2f}-{s.end:.2f} s] latency {cue.latency:.2f} s (translation {cue.translation:.2f} s, "
                    f"waiting for the one before {cue.waited:.2f} s){signs}{hands}",
                    file=sys.stderr,
                )
        if view is not None:
            view.caption(s.text)

    def on_frame(rgb, data, conf, slot) -> None:
        bar.update(1)
        if view is not None:
            view.frame(rgb, data, conf, slot)

    pipeline = LivePipeline(translator, reader, config, on_cue, on_frame if progress or view else None)
    window = None
    try:
        pipeline.start()
    except KeyboardInterrupt:
        reader.close()
        bar.close()
        sys.stderr.write("interrupted before the first frame\n")
        return 130
    try:
        try:
            window = LiveWindow(view) if view is not None else None
            while pipeline.wait(0.05 if window else 0.2) is None:
                if window is not None and not window.pump():
                    pipeline.stop()  # the window was closed: stop as Ctrl-C does
                    window.close()
                    window = None
        except KeyboardInterrupt:  # stop reading; what was read is still translated
            pipeline.stop()
            with lock:
                bar.write("stopping: translating the segment in progress (Ctrl-C again to quit now)", file=sys.stderr)
            pipeline.wait()
    except KeyboardInterrupt:
        bar.close()
        sys.stderr.write("interrupted: the segment in progress was not translated\n")
        return 130
    finally:
        with lock:  # a cue being written is finished first: none is left half-written
            closed.append(True)
            if out is not None:
                out.close()
        bar.close()
        if window is not None:
            window.close()
    report = pipeline.report
    if report.error and report.frames == 0:
        raise InputError(reader.source.name, report.error)
    where = f"; {out.count} written to {out.path}" if out is not None and out.count else ""
    sys.stderr.write(report.summary() + where + "\n")
    if verbose:
        sys.stderr.write(translator.timings.summary() + "\n")
    if report.error:
        sys.stderr.write(f"error: {reader.source.name}: {report.error}\n")
        return 1
    return 0
