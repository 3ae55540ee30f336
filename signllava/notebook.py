"""The logic of the interactive ASL QA notebook (``notebooks/asl_qa.ipynb``; its cells only call this).

A :class:`QASession` holds one :class:`~signllava.inference.translator.Translator` and the video being looked
at: the pose skeleton drawn over it, its translation (with a warning where the hands were missing in
most frames), and the questions asked about it so far; it offers only the kinds of question the
loaded model was trained on (:meth:`QASession.questions`).
:meth:`QASession.widget` puts the same calls behind ipywidgets (choose a file by path or upload,
see it, ask in a loop). IPython and ipywidgets are imported inside the functions that need them,
so ``import signllava`` works without the ``notebook`` extra.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pose.errors import InputError, quoted
from pose.io import write_pose

from .inference.questions import Question, answered
from .inference.subtitles import Segment

if TYPE_CHECKING:
    from .inference.translator import Translator

log = logging.getLogger(__name__)

# where the real How2Sign test clips live, relative to the folder that holds the repository
CLIPS = Path("shared") / "realdata" / "how2sign" / "clips"
NO_VIDEO = (
    "no video chosen: set SIGNLLAVA_NOTEBOOK_VIDEO (or VIDEO in the parameters cell) to a video or .pose file, "
    "or pick one in the widget (the last cell)"
)
OVERLAYS = {"video": ".mp4", "sheet": ".jpg"}  # a JPEG sheet: a fifth the size of a PNG in the notebook
DISPLAY_WIDTH = 640  # pixels: big enough to see the hands, small enough beside the text


def default_video(repo: str | os.PathLike = "..", checkpoint: str | os.PathLike | None = None) -> Path | None:
    """A sample for the model in use. The default model (``checkpoint`` None) knows only synthsign:
    the first clip of a held-out synthsign document, generated once into the cache. A trained
    checkpoint: the first real How2Sign clip in ``../shared/realdata/how2sign/clips`` beside the
    repository folder ``repo`` (the notebook runs in ``notebooks/``, hence ``..``), or None."""
    if checkpoint is None:
        from .demo import heldout_document
        from .model.llm import cache_dir

        folder = cache_dir() / "samples" / "synthsign"
        return folder / "poses" / f"{heldout_document(folder)[0].sentence_name}.pose"
    clips = Path(repo).resolve().parent / CLIPS
    if not clips.is_dir():
        return None
    found = sorted(p for p in clips.iterdir() if p.is_file() and not p.name.startswith("."))
    return found[0] if found else None


def describe_choice(video: str | os.PathLike | None, checkpoint: str | os.PathLike | None) -> str:
    """What the notebook is about to use, in two lines (or how to choose a video when none is set)."""
    model = checkpoint or "the embedded default model (knows only the synthetic signing language)"
    return f"video: {video or NO_VIDEO}\nmodel: {model}"


def one_line_errors() -> None:
    """In a running IPython, show bad-input errors (:class:`InputError`) as one line, not a traceback."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None) -> None:
        print(f"error: {value}", file=sys.stderr)

    shell.set_custom_exc((InputError,), show)


@dataclass(frozen=True)
class Translation:
    """The translation of one video: its timed segments and the whole text; ``warning``: why it is
    not to be trusted (hands missing in most frames), if it is not."""

    segments: tuple[Segment, ...]
    warning: str | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)

    @property
    def hands_found(self) -> float | None:
        """The share of the video's frames in which a hand was found."""
        from .inference.subtitles import hands_share

        return hands_share(self.segments)

    def __str__(self) -> str:
        if len(self.segments) == 1 and self.segments[0].glosses is None:
            body = self.text or "(empty translation)"
        else:
            body = "\n".join(
                f"[{s.start:6.2f}-{s.end:6.2f} s] {s.text}"
                + ("" if s.glosses is None else f"\n{'':17}signs: {' '.join(s.glosses) or '(none)'}")
                for s in self.segments
            )
        return body if not self.warning else f"{body}\nwarning: {self.warning}"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


@dataclass(frozen=True)
class Exchange:
    """One question asked about a video and the model's answer (``warning``: why not to trust it)."""

    video: Path
    question: str
    answer: str
    warning: str | None = None

    def __str__(self) -> str:
        return f"Q: {self.question}\nA: {self.answer}" + (f"\nwarning: {self.warning}" if self.warning else "")


def _session_folder() -> Path:
    """A fresh folder for one session's drawings under the cache's ``qa/``, named after this process.
    A kernel that is killed runs no finalizer, so folders of processes that are gone are removed here."""
    from .model.llm import cache_dir

    root = cache_dir() / "qa"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        owner = old.name.split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class QASession:
    """One translator and the video being looked at: overlay, translation and questions about it.

    The video is checked on first use (or at once with :meth:`open`), so a session can be made
    before a file is chosen. Drawn overlays go to ``workdir`` (unless one is given, a folder under the
    cache that the session removes when it is garbage collected, or a later session once this process
    is gone)."""

    def __init__(
        self,
        translator: Translator,
        video: str | os.PathLike | None = None,
        *,
        workdir: str | os.PathLike | None = None,
        num_beams: int = 5,
        max_new_tokens: int = 100,
        answer_tokens: int = 32,
    ):
        self.translator = translator
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self.answer_tokens = answer_tokens
        if workdir is None:
            workdir = _session_folder()
            self._cleanup = weakref.finalize(self, shutil.rmtree, workdir, True)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.history: list[Exchange] = []
        self._opened = 0  # numbers the files written per video, so two clips with one name never collide
        self.select(video)

    def __repr__(self) -> str:
        config = self.translator.model.config
        return (
            f"QASession(video={str(self.video) if self.video else None!r}, llm={config.llm!r}, "
            f"streams={sorted(config.streams)}, workdir={str(self.workdir)!r})"
        )

    # --- choosing a video ----------------------------------------------------------------------

    def select(self, video: str | os.PathLike | None) -> None:
        """Look at ``video`` from now on (checked on first use); the previous video's results are dropped."""
        self.video = None if video is None else Path(video)
        self._pose_file: Path | None = None
        self._name = ""  # of the files drawn for this video in workdir, set when its poses are read
        self._width = DISPLAY_WIDTH
        self._overlays: dict[str, Path] = {}
        self._translation: Translation | None = None

    def open(self, video: str | os.PathLike) -> Path:
        """Select ``video`` and compute its poses now, so a bad file fails here; returns the .pose file."""
        self.select(video)
        return self.pose_file()

    def pose_file(self) -> Path:
        """The video's poses as a .pose file (the file itself for a .pose input)."""
        if self.video is None:
            raise InputError(None, NO_VIDEO)
        if self._pose_file is None:
            pose = self.translator.poses(self.video)  # raises on a missing or bad file, or no signer
            self._width = pose.header.dimensions.width
            self._opened += 1
            self._name = f"{self._opened:03d}-{self.video.stem}"
            if self.video.suffix == ".pose":
                self._pose_file = self.video
            else:
                self._pose_file = self.workdir / f"{self._name}.pose"
                write_pose(pose, self._pose_file)
        return self._pose_file

    # --- looking at it -------------------------------------------------------------------------

    def overlay(self, kind: str = "video") -> Any:
        """The pose skeleton drawn over the video (alone for a .pose file), ready for IPython to show:
        ``"video"`` an embedded mp4, ``"sheet"`` a JPEG contact sheet of six frames."""
        if kind not in OVERLAYS:
            raise InputError(None, f"overlay kind must be one of {', '.join(OVERLAYS)}, got {quoted(kind)}")
        from IPython.display import Image, Video

        path = self._overlays.get(kind) or self._draw(kind)
        if kind == "sheet":
            return Image(filename=str(path))  # several frames wide: the front end fits it to the cell
        # embedded, so the notebook shows it without a server for the file; muted autoplay loops like a GIF
        width = min(DISPLAY_WIDTH, self._width)
        return Video(str(path), embed=True, width=width, html_attributes="controls autoplay loop muted")

    def _draw(self, kind: str) -> Path:
        from pose.visualize import draw_pose

        pose_file = self.pose_file()
        background = None if self.video.suffix == ".pose" else self.video
        out = draw_pose(pose_file, self.workdir / (self._name + OVERLAYS[kind]), video=background)
        self._overlays[kind] = out
        return out

    def translation(self) -> Translation:
        """The video in English (computed once per video)."""
        if self._translation is None:
            self.pose_file()
            segments = self.translator.translate(
                self.video, num_beams=self.num_beams, max_new_tokens=self.max_new_tokens
            )
            warning = self.translator.hands_warning(segments, self.video.name)
            self._translation = Translation(tuple(segments), warning)
        return self._translation

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of question (QA tasks) the loaded model was trained on: the only ones it answers."""
        return self.translator.kinds

    def questions(self, words: tuple[str, ...] | list[str] = ("party",)) -> list[str]:
        """Questions of every kind the loaded model answers: a word question for each of ``words``
        (the signs-present kind asks about all of them at once), the others as trained."""
        out = []
        for task in self.kinds:
            if task == "sign_present":
                out += [Question(task, (w,)).text for w in words]
            elif task == "signs_present":
                out.append(Question(task, tuple(words)).text)
            else:
                out.append(Question(task).text)
        return out

    def ask(self, question: str) -> str:
        """The model's answer to a question about the video; every exchange is kept in ``history``.
        A question of a kind the model was never trained on raises an :class:`InputError` saying so."""
        question = question.strip()
        if not question:
            raise InputError(None, "the question is empty")
        self.pose_file()
        answer = self.translator.ask(self.video, question, max_new_tokens=self.answer_tokens)
        warning = self.translator.video_hands_warning(self.video)
        self.history.append(Exchange(self.video, question, answer, warning))
        return answer

    def widget(self) -> QAWidget:
        """The interactive UI over this session (display it as a cell's last expression)."""
        return QAWidget(self)

    def live(self, source: str | os.PathLike | None = None, **config) -> LiveWidget | NoCamera:
        """Live translation with this session's model (``signllava live``'s pipeline) behind ipywidgets: a
        camera (``$SIGNLLAVA_NOTEBOOK_CAMERA``, else camera 0), or a stream URL or video file (played in
        real time). Where there is no such camera, one line saying so (:class:`NoCamera`). ``config``:
        :class:`~signllava.inference.live.LiveConfig` fields."""
        from .inference.live_source import parse_source

        source = str(source if source is not None else os.environ.get("SIGNLLAVA_NOTEBOOK_CAMERA") or CAMERA)
        try:
            parsed = parse_source(source)
        except InputError as err:
            if source.isdigit() or source.startswith("/dev/video"):
                return NoCamera(str(err))
            raise
        config = {"num_beams": self.num_beams, "max_new_tokens": self.max_new_tokens} | config
        return LiveWidget(self.translator, parsed, **config)


CAMERA = "0"  # the notebook's live mode: camera 0 unless $SIGNLLAVA_NOTEBOOK_CAMERA names another source


@dataclass(frozen=True)
class NoCamera:
    """What the live mode shows where the camera is missing: one line."""

    problem: str

    def __str__(self) -> str:
        return (
            f"no camera for live translation here ({self.problem}); "
            "set SIGNLLAVA_NOTEBOOK_CAMERA to another camera, a stream URL or a video file"
        )

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


class LiveWidget:
    """ipywidgets UI over :class:`~signllava.inference.live.LivePipeline`: Start and Stop, the video with its
    skeleton and the latest captions (refreshed a few times a second), and each translated segment as
    it comes. A file source plays at its own pace. The controls are attributes, for code and tests."""

    REFRESH_S = 0.2  # between pictures

    def __init__(self, translator: Translator, source, **config):
        import ipywidgets as w

        from .inference.live import LiveConfig
        from .inference.live_view import LiveView

        self.translator, self.source = translator, source
        self.config = LiveConfig(**({"realtime": True} | config))
        self.view = LiveView(translator.holistic, width=DISPLAY_WIDTH)
        self.pipeline = None
        self.start_button = w.Button(description="Start", button_style="primary")
        self.stop_button = w.Button(description="Stop", disabled=True)
        self.status = w.Label(value=f"{source.name}: press Start")
        self.image = w.Image(format="jpeg", layout=w.Layout(width=f"{DISPLAY_WIDTH}px"))
        self.captions = w.Output()
        self.start_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.ui = w.VBox([w.HBox([self.start_button, self.stop_button, self.status]), self.image, self.captions])
        self._refresher: threading.Thread | None = None

    def _repr_mimebundle_(self, **kwargs) -> Any:
        return self.ui._repr_mimebundle_(**kwargs)

    def start(self) -> None:
        """Open the source and translate it live (the Start button); a bad source: one line in the status."""
        from .inference.live import LivePipeline
        from .inference.live_source import open_reader

        self.captions.outputs = ()
        try:
            reader = open_reader(self.source, self.config.timeout)
            self.pipeline = LivePipeline(self.translator, reader, self.config, self._cue, self.view.frame).start()
        except InputError as err:
            self.status.value = f"error: {err}"
            return
        self.start_button.disabled, self.stop_button.disabled = True, False
        self.status.value = f"{self.source.name}: live"
        self._refresher = threading.Thread(target=self._refresh, name="live-widget", daemon=True)
        self._refresher.start()

    def stop(self) -> None:
        """Stop reading; the segment in progress is still translated (the Stop button)."""
        if self.pipeline is not None:
            self.pipeline.stop()
            self.status.value = f"{self.source.name}: stopping (translating the segment in progress)"

    def wait(self, timeout: float | None = None) -> None:
        """Until the run is over (the source ended or was stopped) and its last picture is shown."""
        if self._refresher is not None:
            self._refresher.join(timeout)

    def _cue(self, cue) -> None:
        s = cue.segment
        self.view.caption(s.text)
        self.captions.append_stdout(f"[{s.start:6.2f}-{s.end:6.2f} s] {s.text}  (latency {cue.latency:.1f} s)\n")

    def _refresh(self) -> None:
        import cv2

        while True:
            over = self.pipeline.done
            picture = self.view.picture()
            if picture is not None:
                self.image.value = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
            if over:
                break
            time.sleep(self.REFRESH_S)
        try:
            report = self.pipeline.wait()
            self.status.value = report.summary() + (f"; error: {report.error}" if report.error else "")
        except Exception as err:  # a bug, not bad input: one line here, the traceback in the kernel log
            log.exception("live widget")
            self.status.value = f"error: {type(err).__name__}: {' '.join(str(err).split())}"
        self.start_button.disabled, self.stop_button.disabled = False, True


class QAWidget:
    """ipywidgets UI: choose a video (path or upload), see the overlay and translation, ask in a loop.

    Errors go to the output areas as one line each; the controls are attributes so that code (and
    the tests) can drive them as a user would."""

    def __init__(self, session: QASession):
        import ipywidgets as w

        self.session = session
        self.path = w.Text(
            value=str(session.video or ""),
            placeholder="path to a video or .pose file",
            layout=w.Layout(width="60%"),
        )
        self.load_button = w.Button(description="Load", button_style="primary")
        self.upload = w.FileUpload(accept="video/*,.pose", multiple=False, description="Upload")
        self.status = w.Label()
        self.view = w.Output()
        offered = session.questions()
        hint = f"e.g. {offered[0]}" if offered else "this model answers no questions"
        self.question = w.Text(placeholder=hint, layout=w.Layout(width="60%"))
        self.kinds = w.Label(value=answered(session.kinds))  # the questions it answers, as a user may type them
        self.ask_button = w.Button(description="Ask")
        self.answers = w.Output()
        self.load_button.on_click(lambda _: self.load(self.path.value))
        self.upload.observe(self._uploaded, names="value")
        self.ask_button.on_click(lambda _: self.ask(self.question.value))
        self.ui = w.VBox(
            [
                w.HBox([self.path, self.load_button, self.upload]),
                self.status,
                self.view,
                w.HBox([self.question, self.ask_button]),
                self.kinds,
                self.answers,
            ]
        )
        if session.video is not None:
            self.status.value = f"{session.video.name}: press Load to see it, or ask a question"

    def _repr_mimebundle_(self, **kwargs) -> Any:
        return self.ui._repr_mimebundle_(**kwargs)

    @contextlib.contextmanager
    def _working(self, message: str, output) -> Iterator[None]:
        """Disable the buttons and say what is running; show a failure as one line in ``output``."""
        self.status.value = message
        self.load_button.disabled = self.ask_button.disabled = True
        try:
            yield
            self.status.value = ""
        except InputError as err:
            output.append_stderr(f"error: {err}\n")
            self.status.value = "error"
        except Exception as err:  # a bug, not bad input: one line here, the traceback in the kernel log
            log.exception("notebook widget")
            output.append_stderr(f"error: {type(err).__name__}: {' '.join(str(err).split())}\n")
            self.status.value = "error"
        finally:
            self.load_button.disabled = self.ask_button.disabled = False

    def load(self, path: str | os.PathLike) -> None:
        """Open ``path``, then show its overlay and translation (the Load button)."""
        self.view.outputs = ()
        self.answers.outputs = ()
        with self._working(f"reading {Path(path).name} and translating ...", self.view):
            if not str(path).strip():
                raise InputError(None, "type a path or upload a file first")
            self.session.open(Path(str(path).strip()).expanduser())
            self.view.append_display_data(self.session.overlay())
            self.view.append_stdout(f"Translation:\n{self.session.translation()}\n")

    def ask(self, question: str) -> None:
        """Ask about the current video and add the exchange to the log (the Ask button)."""
        with self._working("thinking ...", self.answers):
            self.session.ask(question)
            self.answers.append_stdout(f"{self.session.history[-1]}\n")
            self.question.value = ""

    def _uploaded(self, change: dict) -> None:
        """Save an uploaded file in the session's folder and load it."""
        if not change["new"]:
            return  # the reset below
        item = change["new"][0]
        folder = self.session.workdir / "uploads"
        folder.mkdir(exist_ok=True)
        target = folder / Path(item["name"]).name  # never a path the browser chose
        target.write_bytes(bytes(item["content"]))
        self.upload.value = ()  # so that uploading the same file again fires too
        self.path.value = str(target)
        self.load(target)
