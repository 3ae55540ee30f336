"""The ASL QA notebook runs headless (nbclient), and the session and widget behind it work alone."""

from __future__ import annotations

import re
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pose.errors import InputError
from signllava.inference.translator import Translator
from signllava.notebook import NO_VIDEO, QASession, Translation, default_video
from tests.conftest import ROOT, realdata, write_video

NOTEBOOK = ROOT / "notebooks" / "asl_qa.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def clip(synth) -> Path:
    return sorted((synth / "poses").glob("*.pose"))[0]


@pytest.fixture(scope="module")
def translator(checkpoint, tmp_path_factory) -> Translator:
    translator = Translator.load(checkpoint, "cpu")
    translator.cache = tmp_path_factory.mktemp("pose-cache")
    return translator


def session_for(translator: Translator, video, tmp_path: Path) -> QASession:
    # greedy and short: the tiny LLM's words are noise, only the plumbing is under test
    return QASession(translator, video, workdir=tmp_path / "qa", num_beams=1, max_new_tokens=4, answer_tokens=3)


def run_notebook(monkeypatch, checkpoint: Path, video: Path | None, path: Path = NOTEBOOK, **options) -> dict:
    """Execute the notebook at ``path`` in a fresh python3 kernel started in its folder (as Jupyter
    does); returns its code cells with their outputs, by the first word of their source."""
    monkeypatch.setenv("SIGNLLAVA_CHECKPOINT", str(checkpoint))
    if video is None:
        monkeypatch.delenv("SIGNLLAVA_NOTEBOOK_VIDEO", raising=False)
    else:
        monkeypatch.setenv("SIGNLLAVA_NOTEBOOK_VIDEO", str(video))
    notebook = nbformat.read(path, as_version=4)
    where = {"metadata": {"path": str(path.parent)}}
    NotebookClient(notebook, kernel_name="python3", timeout=300, resources=where, **options).execute()
    cells = {cell.source.split(maxsplit=1)[0]: cell for cell in notebook.cells if cell.cell_type == "code"}
    assert list(cells) == ["import", "CHECKPOINT", "translator", "session.overlay()", "session.translation()", "for",
                           "session.widget()", "session.live()"]  # fmt: skip
    return cells


def text_of(cell) -> str:
    """Everything a cell printed or displayed as text or HTML."""
    parts = []
    for out in cell.outputs:
        parts.append(out.get("text", ""))
        data = out.get("data", {})
        parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


def check_outputs(cells: dict, video: Path) -> None:
    """Every code cell ran cleanly and showed what it is there for."""
    for cell in cells.values():
        assert cell.execution_count, f"did not run:\n{cell.source}"
        # the imports cell is the only one with nothing to show
        assert cell.outputs or cell.source.startswith("import "), f"no output from:\n{cell.source}"
        errors = [o for o in cell.outputs if o.output_type == "error" or o.get("text", "").startswith("error:")]
        assert not errors, f"{cell.source}\n-> {errors}"
    assert f"video: {video}" in text_of(cells["CHECKPOINT"])
    assert str(video) in text_of(cells["translator"])  # the session's summary
    overlay = text_of(cells["session.overlay()"])
    assert "<video" in overlay and "data:video/mp4;base64," in overlay
    assert text_of(cells["session.translation()"]).strip()
    answers = text_of(cells["for"])
    # the questions of the kinds the fixture's model was trained on (its task weights), and only those
    offered = [
        "Is the sign 'party' present?",
        "Is the sign 'store' present?",
        "Are the signs 'party', 'store' present? Answer yes or no for each, separated by commas.",
        "Is the video reversed?",
    ]
    assert [line[3:] for line in answers.splitlines() if line.startswith("Q: ")] == offered
    assert answers.count("\nA: ") == 4
    assert WIDGET_MIME in cells["session.widget()"].outputs[0]["data"]
    check_live_cell(cells["session.live()"])


def check_live_cell(cell) -> None:
    """The live mode: its widget where camera 0 is, else one line saying there is none."""
    if Path("/dev/video0").exists() or not sys.platform.startswith("linux"):
        assert WIDGET_MIME in cell.outputs[0]["data"]
        return
    assert text_of(cell).strip() == (
        "no camera for live translation here (0: no such camera (/dev/video0 does not exist)); "
        "set SIGNLLAVA_NOTEBOOK_CAMERA to another camera, a stream URL or a video file"
    )


def test_notebook_runs_headless_on_a_synthsign_clip(monkeypatch, checkpoint, clip):
    check_outputs(run_notebook(monkeypatch, checkpoint, clip), clip)


@pytest.mark.slow
def test_notebook_runs_headless_on_the_default_real_clip(monkeypatch, checkpoint, tmp_path):
    clips = realdata("how2sign", "clips")
    first = sorted(p for p in clips.iterdir() if p.is_file() and not p.name.startswith("."))[0]
    assert default_video(ROOT, checkpoint) == first
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cache"))  # MediaPipe really runs on the clip
    check_outputs(run_notebook(monkeypatch, checkpoint, None), first)


def test_the_default_models_sample_is_a_heldout_synthsign_clip(monkeypatch, tmp_path):
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path))
    sample = default_video(ROOT, None)
    assert sample.suffix == ".pose" and sample.is_file() and sample.name.startswith("synth0-test-00000_0")
    assert default_video(ROOT, None) == sample  # generated once


def test_notebook_without_a_video_says_how_to_choose_one_in_one_line(monkeypatch, checkpoint, tmp_path):
    copy = tmp_path / "repo" / "notebooks" / NOTEBOOK.name  # a checkout with no ../shared beside it
    copy.parent.mkdir(parents=True)
    shutil.copy(NOTEBOOK, copy)
    cells = run_notebook(monkeypatch, checkpoint, None, copy, allow_errors=True)
    assert NO_VIDEO in text_of(cells["CHECKPOINT"])
    for name in ("session.overlay()", "session.translation()", "for"):
        assert [(o.output_type, o.get("text")) for o in cells[name].outputs] == [("stream", f"error: {NO_VIDEO}\n")]
    assert WIDGET_MIME in cells["session.widget()"].outputs[0]["data"]
    check_live_cell(cells["session.live()"])


def test_session_translates_answers_and_keeps_history(translator, clip, tmp_path):
    session = session_for(translator, clip, tmp_path)
    translation = session.translation()
    assert isinstance(translation, Translation) and len(translation.segments) == 1
    assert session.translation() is translation  # computed once per video
    assert session.ask("Is the video reversed?") in ("yes", "no")
    session.ask("  Is the sign 'team' present?  ")
    assert [e.question for e in session.history] == ["Is the video reversed?", "Is the sign 'team' present?"]
    assert session.questions(["dog"]) == [
        "Is the sign 'dog' present?",
        "Are the signs 'dog' present? Answer yes or no for each, separated by commas.",
        "Is the video reversed?",
    ]
    # a kind the model was never trained on gets a notice, not an answer, and no place in the history
    with pytest.raises(InputError, match="of kind first_word, which this model was never trained on"):
        session.ask("What is the first word of the translation?")
    assert len(session.history) == 2 and all(e.warning is None for e in session.history)
    assert all(e.video == clip for e in session.history)
    assert "<video" in session.overlay()._repr_html_()
    sheet = session.overlay("sheet")
    assert sheet.data[:3] == b"\xff\xd8\xff"  # JPEG
    # drawings go to the session's folder, never beside the input
    assert sorted(p.name for p in (tmp_path / "qa").iterdir()) == [f"001-{clip.stem}.jpg", f"001-{clip.stem}.mp4"]


def test_session_bad_inputs_are_one_line_errors(translator, tmp_path):
    session = session_for(translator, None, tmp_path)
    with pytest.raises(InputError, match=re.escape(NO_VIDEO)):
        session.overlay()
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    for video, problem in [
        (tmp_path / "gone.mp4", "gone.mp4: file not found"),
        (bad, "notes.mp4: not a readable video"),
        (write_video(tmp_path / "nobody.mp4", frames=6, size=(128, 96)), "nobody.mp4: no signer found in any frame"),
    ]:
        with pytest.raises(InputError, match=problem) as err:
            session.open(video)
        assert "\n" not in str(err.value)
    session.select(tmp_path / "gone.mp4")
    with pytest.raises(InputError, match="file not found"):
        session.ask("Is the video reversed?")
    with pytest.raises(InputError, match="overlay kind must be one of video, sheet"):
        session.overlay("gif")
    with pytest.raises(InputError, match="the question is empty"):
        session_for(translator, None, tmp_path).ask("  ")
    assert session.history == []


def test_widget_loads_uploads_asks_and_reports_errors(translator, clip, tmp_path):
    ui = session_for(translator, None, tmp_path).widget()
    ui.path.value = str(tmp_path / "gone.mp4")
    ui.load_button.click()
    assert [o["text"] for o in ui.view.outputs] == [f"error: {tmp_path / 'gone.mp4'}: file not found\n"]
    ui.question.value = "Is the video reversed?"
    ui.ask_button.click()
    assert ui.answers.outputs[-1]["text"].startswith("error: ") and ui.answers.outputs[-1]["text"].count("\n") == 1
    assert not ui.load_button.disabled and not ui.ask_button.disabled  # re-enabled after a failure

    # the browser sends the file's bytes; the widget saves them in the session's folder and loads them
    data = clip.read_bytes()
    sent = {"name": "../" + clip.name, "type": "", "size": len(data), "content": memoryview(data)}
    ui.upload.value = (sent | {"last_modified": datetime.now(timezone.utc)},)
    saved = tmp_path / "qa" / "uploads" / clip.name
    assert saved.read_bytes() == data and ui.path.value == str(saved) and ui.upload.value == ()
    kinds = [o["output_type"] for o in ui.view.outputs]
    assert kinds == ["display_data", "stream"], ui.view.outputs
    assert "<video" in ui.view.outputs[0]["data"]["text/html"]
    assert ui.view.outputs[1]["text"].startswith("Translation:\n")

    for question in ("Is the video reversed?", "Is the sign 'team' present?"):
        ui.question.value = question
        ui.ask_button.click()
    exchanges = "".join(o["text"] for o in ui.answers.outputs)
    assert exchanges.count("Q: ") == 2 and exchanges.count("A: ") == 2 and ui.question.value == ""
    assert ui.status.value == ""
    # the widget offers the trained kinds and gives any other question a one-line notice
    assert ui.question.placeholder == "e.g. Is the sign 'party' present?"
    assert ui.kinds.value.startswith("this model answers: ") and "first word" not in ui.kinds.value
    ui.question.value = "Tell me a joke"
    ui.ask_button.click()
    notice = ui.answers.outputs[-1]["text"]
    assert (
        notice.startswith('error: "Tell me a joke" is not a question the model was trained on')
        and notice.count("\n") == 1
    )


def test_a_translation_of_a_video_without_hands_comes_with_a_warning(translator, clip, tmp_path):
    from pose.io import read_pose, write_pose
    from tests.signllava.inference.test_hands import without_hands

    handless = write_pose(without_hands(read_pose(clip)), tmp_path / "handless.pose")
    session = session_for(translator, handless, tmp_path)
    translation = session.translation()
    assert translation.hands_found == 0.0
    assert (
        translation.warning == "hands found in only 0 % of the frames of handless.pose: the translation is unreliable"
    )
    assert str(translation).endswith(f"\nwarning: {translation.warning}")
    session.ask("Is the video reversed?")
    assert str(session.history[-1]).endswith("\nwarning: " + translator.video_hands_warning(handless))
    assert session_for(translator, clip, tmp_path / "b").translation().warning is None


def test_a_translation_shows_the_signs_read_where_the_model_reads_glosses():
    from signllava.inference.subtitles import Segment

    assert str(Translation((Segment(0.0, 2.0, "Hi."),))) == "Hi."
    assert str(Translation((Segment(0.0, 2.0, "Hi.", ("HELLO", "YOU")),))) == (
        f"[  0.00-  2.00 s] Hi.\n{'':17}signs: HELLO YOU"
    )
    two = Translation((Segment(0.0, 2.0, "Hi.", ()), Segment(2.0, 3.5, "Bye.", ("BYE",))))
    assert str(two).splitlines()[1::2] == [f"{'':17}signs: (none)", f"{'':17}signs: BYE"]


def test_session_folders_are_removed_with_the_session_or_after_their_process(tmp_path, monkeypatch):
    import gc
    import subprocess
    import sys

    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cache"))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / "cache" / "qa" / f"{gone.stdout.strip()}-abc"  # a killed kernel's leftover
    stale.mkdir(parents=True)
    (stale / "001-clip.png").write_bytes(b"png")
    session = QASession(None)
    folder = session.workdir
    assert folder.is_dir() and folder.parent == stale.parent and not stale.exists()
    del session
    gc.collect()
    assert not folder.exists()


def test_live_mode_plays_a_file_through_the_live_pipeline(translator, tmp_path, monkeypatch):
    from signllava.notebook import LiveWidget, NoCamera

    session = session_for(translator, None, tmp_path)
    if sys.platform.startswith("linux"):
        monkeypatch.delenv("SIGNLLAVA_NOTEBOOK_CAMERA", raising=False)
        missing = session.live("7")
        assert isinstance(missing, NoCamera) and "\n" not in str(missing)
        assert str(missing).startswith("no camera for live translation here (7: no such camera")
    video = write_video(tmp_path / "square.mp4", frames=25, fps=25, size=(96, 64))  # 1 s, played in real time
    monkeypatch.setenv("SIGNLLAVA_NOTEBOOK_CAMERA", str(video))
    ui = session.live()
    assert isinstance(ui, LiveWidget) and ui.config.realtime and ui.config.num_beams == 1
    ui.start_button.click()
    assert ui.start_button.disabled and not ui.stop_button.disabled
    ui.wait(120)
    lines = "".join(o["text"] for o in ui.captions.outputs).splitlines()
    assert len(lines) == 1 and lines[0].startswith("[  0.00-  1.00 s] ") and "latency" in lines[0]
    assert ui.image.value[:3] == b"\xff\xd8\xff"  # the last picture, as JPEG
    assert ui.status.value.startswith("live: 25 frames") and not ui.start_button.disabled
    with pytest.raises(InputError, match="gone.mp4: file not found"):  # a file or stream: an error, as elsewhere
        session.live(str(tmp_path / "gone.mp4"))
    bad = write_video(tmp_path / "later.mp4", frames=5)
    later = session.live(str(bad))
    bad.write_bytes(b"")  # gone bad between choosing and starting: one line in the status
    later.start_button.click()
    assert later.status.value.startswith("error: ") and "\n" not in later.status.value
