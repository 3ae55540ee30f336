"""Many inputs in one call: one output each under OUT/, the model loaded once, reruns skip finished ones,
failures summarised and listed (exit 1), outputs written atomically, progress only where asked."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from pose.io import TMP_PREFIX, read_pose
from signllava.cli import app
from signllava.inference.batch_translate import translate_many
from signllava.inference.translator import Translator

runner = CliRunner()


@pytest.fixture
def inputs(synth, tmp_path):
    """A folder (with a sub-folder) of two .pose clips, a list naming a third, and a file that is no pose."""
    clips = sorted((synth / "poses").glob("*.pose"))[:3]
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(clips[0], folder / "a.pose")
    shutil.copy(clips[1], folder / "sub" / "b.pose")
    listed = tmp_path / "list.txt"
    listed.write_text(f"# one more clip\n{clips[2]}\n")
    (tmp_path / "bad.pose").write_bytes(b"not a pose")
    return folder, listed, clips[2]


@pytest.fixture
def loads(monkeypatch):
    """Each Translator.load call's prefetch list, the loads still done by the real one."""
    calls, real = [], Translator.load.__func__

    def load(cls, *args, **kwargs):
        calls.append(list(kwargs.get("prefetch", ())))
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(Translator, "load", classmethod(load))
    return calls


def outputs(out, pattern="*.txt"):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob(pattern))


def test_many_inputs_load_the_model_once_and_write_one_output_each(inputs, loads, checkpoint, tmp_path):
    folder, listed, third = inputs
    out = tmp_path / "out"
    common = ["--checkpoint", str(checkpoint), "--beam", "1", "--device", "cpu", "-o", str(out)]
    bad = [str(tmp_path / "bad.pose"), str(tmp_path / "gone.mp4")]
    result = runner.invoke(app, ["translate", str(folder), str(listed), *bad, *common])
    assert result.exit_code == 1, result.output
    assert len(loads) == 1 and len(loads[0]) == 1  # once, the first input's poses prefetched while it loads
    assert outputs(out) == sorted(["a.txt", f"{third.stem}.txt", "sub/b.txt"])  # input folders mirrored
    assert "3 translated, 0 already done (skipped), 2 failed" in result.stdout
    for error in ("bad.pose: not a readable .pose file", "gone.mp4: file not found"):  # said once, as it happened
        assert (result.stdout + result.stderr).count(error) == 1 and f"failed: {tmp_path}" in result.stderr
    rows = (out / "translate.failures.tsv").read_text().splitlines()
    assert rows[0] == "video\terror" and len(rows) == 3 and rows[1].startswith(str(tmp_path / "bad.pose"))
    assert "failures listed in" in result.stderr
    assert "inputs 3/" not in result.stderr and "frame/s" not in result.stderr  # no terminal: no progress
    assert not list(out.rglob(TMP_PREFIX + "*"))

    again = runner.invoke(app, ["translate", str(folder), str(listed), *common])
    assert again.exit_code == 0, again.output
    assert "0 translated, 3 already done (skipped), 0 failed" in again.stdout
    assert len(loads) == 1  # nothing left to do: no model loaded
    assert not (out / "translate.failures.tsv").exists()  # its inputs are no longer asked for

    srt = runner.invoke(app, ["translate", str(folder / "sub"), *common, "-f", "srt", "--overwrite"])
    assert srt.exit_code == 0 and "1 translated" in srt.stdout and outputs(out, "*.srt") == ["b.srt"]
    assert (out / "b.srt").read_text().startswith("1\n00:00:00,000 --> ")


def test_ask_many_writes_one_answer_each(inputs, loads, checkpoint, tmp_path):
    folder, listed, third = inputs
    out = tmp_path / "answers"
    args = [str(folder), str(listed), "Is the video reversed?", "--checkpoint", str(checkpoint), "--device", "cpu"]
    result = runner.invoke(app, ["ask", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 answered, 0 already done (skipped), 0 failed" in result.stdout and len(loads) == 1
    assert outputs(out) == sorted(["a.answer.txt", f"{third.stem}.answer.txt", "sub/b.answer.txt"])
    assert all((out / name).read_text().count("\n") == 1 for name in outputs(out))


def test_one_input_keeps_its_behaviour_and_several_need_a_folder(inputs, checkpoint, tmp_path):
    folder, _, _ = inputs
    clip = folder / "a.pose"
    common = ["--checkpoint", str(checkpoint), "--beam", "1", "--device", "cpu"]
    printed = runner.invoke(app, ["translate", str(clip), *common])
    assert printed.exit_code == 0 and "translated" not in printed.stdout and not (tmp_path / "out").exists()
    file = runner.invoke(app, ["translate", str(clip), *common, "-o", str(tmp_path / "a.txt")])
    assert file.exit_code == 0 and file.stdout.startswith("wrote ")
    assert (tmp_path / "a.txt").read_text() == printed.stdout
    into = runner.invoke(app, ["translate", str(clip), *common, "-o", f"{tmp_path / 'out'}/"])  # a trailing /: a folder
    assert into.exit_code == 0 and "1 translated" in into.stdout
    assert (tmp_path / "out" / "a.txt").read_text() == printed.stdout
    for several in ([str(clip), str(folder / "sub" / "b.pose")], [str(folder)]):
        result = runner.invoke(app, ["translate", *several, *common])
        assert isinstance(result.exception, InputError) and "need -o FOLDER" in str(result.exception)
    ask = [sys.executable, "-m", "signllava", "ask", str(folder), "Is the video reversed?"]
    cli = subprocess.run(ask, capture_output=True, text=True)
    assert cli.returncode == 2 and cli.stderr.startswith("error: ") and len(cli.stderr.strip().splitlines()) == 1


def test_an_input_that_fails_midway_leaves_no_output_and_the_others_go_on(
    inputs, checkpoint, tmp_path, monkeypatch, capsys
):
    folder, _, _ = inputs
    out = tmp_path / "out"
    translator = Translator.load(checkpoint, "cpu")
    real = translator.translate

    def translate(path, **kwargs):
        if path.name == "b.pose":
            assert list(out.rglob(TMP_PREFIX + "b.txt.*"))  # its output is being written...
            raise RuntimeError("the decoder broke")  # ...when the translation fails
        return real(path, **kwargs)

    monkeypatch.setattr(translator, "translate", translate)
    report = translate_many(translator, [folder], out, max_new_tokens=3, progress=True)
    assert [o.output for o in report.done] == [str(out / "a.txt")] and len(report.failed) == 1
    assert report.failed[0].error.endswith("b.pose: RuntimeError: the decoder broke")
    assert outputs(out) == ["a.txt"] and not list(out.rglob(TMP_PREFIX + "*"))  # no half-written output
    assert report.frames == len(read_pose(folder / "a.pose").body.data)  # both clips are at the model's 25 fps
    assert "inputs 2/2 (1 failed)" in capsys.readouterr().err  # the progress bar, asked for
    assert translator.progress is None  # the batch's bar was the translator's for the batch only

    before = (out / "a.txt").read_text()

    def interrupted(path, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(translator, "translate", interrupted)
    with pytest.raises(KeyboardInterrupt):  # an interrupt stops the batch: it is no input's failure
        translate_many(translator, [folder], out, overwrite=True)
    assert (out / "a.txt").read_text() == before and not list(out.rglob(TMP_PREFIX + "*"))
    translator.close()


def test_an_input_another_run_is_translating_is_left_to_it(inputs, checkpoint, tmp_path):
    from pose.io import claim

    folder, _, _ = inputs
    out = tmp_path / "out"
    translator = Translator.load(checkpoint, "cpu")
    with claim(out / "sub" / "b.txt") as mine:  # another run, translating b now
        assert mine
        report = translate_many(translator, [folder], out, max_new_tokens=3)
    assert report.busy == [str(out / "sub" / "b.txt")] and [o.output for o in report.done] == [str(out / "a.txt")]
    assert "1 translated, 0 already done (skipped), 1 being translated by another run (skipped)" in report.summary()
    assert outputs(out) == ["a.txt"] and not list(out.rglob(".*"))
    translator.close()
