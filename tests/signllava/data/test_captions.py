"""Videos with timed captions (WebVTT, SubRip, caption tables, OpenASL's TSV as released), all made here."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from signllava.cli import app
from signllava.data.captions import clean_line, hash_split, seconds
from signllava.data.datasets import read_metadata, recognize
from signllava.data.streams import DataConfig, StreamInput, data_language, load_sentences
from signllava.data.tasks import ContextWindow, TaskBuilder
from tests.conftest import write_video

# a WebVTT file as YouTube and editors write them: BOM, CRLF, header metadata, STYLE and NOTE blocks, cue ids
# and settings, voice and class tags, inline timestamps, a rolling cue, no final newline
VTT = (
    "\ufeffWEBVTT - talk\r\nKind: captions\r\nLanguage: en\r\n\r\n"
    "STYLE\r\n::cue { color: yellow }\r\n\r\n"
    "NOTE written by hand\r\nover two lines\r\n\r\n"
    "intro\r\n00:00:00.500 --> 00:00:01.500 align:start position:10%\r\n"
    "<v Ann>Hello <i>everyone</i> &amp; welcome\r\n\r\n"
    "00:01.500 --> 00:00:02.800\r\nHello everyone &amp; welcome\r\n"
    "<c.yellow>Today</c><00:00:02.000><c> we sign</c>\r\n\r\n"
    "00:00:02.800 --> 00:00:03.500\r\n[MUSIC] \u266a\u266a\r\n\r\n"
    "00:00:03.000 --> 00:00:03.400\r\nan aside\r\n\r\n"
    "00:00:03.500 --> 00:00:03.900\r\n>> BOB: see you"
)
SRT = (
    '1\n00:00:00,200 --> 00:00:01,200\n<font color="#ffff00">- Good morning</font>\n\n'
    "2\n00:00:01.300 --> 00:00:02,400\n{\\an8}caf\u00c3\u00a9 time (applause)\n(and tea)\n\n"
    "3\n00:00:02,500 --> 00:00:0X,000\nbroken timing\n\n"
    "4\n00:00:02,900 --> 00:00:03,800\nthank you\n"
)
OPENASL = "vid\tyid\tstart\tend\traw-text\ttokenized-text\tgloss\tsplit\n"


def vtt_cues(*cues: tuple[float, float, str]) -> str:
    def t(x: float) -> str:
        return f"00:00:{x:06.3f}"

    return "WEBVTT\n\n" + "".join(f"{t(a)} --> {t(b)}\n{text}\n\n" for a, b, text in cues)


def test_webvtt_as_editors_write_it_cues_cleaned_named_and_problems_dropped(tmp_path):
    path = tmp_path / "talk.en.vtt"
    path.write_bytes(VTT.encode("utf-8"))
    assert recognize(path).name == "captions"
    report, pair = read_metadata([path])
    assert pair == "asl-en" and report.dataset == "captions"
    got = [(s.sentence_name, s.sentence_id, s.start, s.end, s.text) for s in report.kept]
    assert got == [
        ("talk.1", "intro", 0.5, 1.5, "Hello everyone & welcome"),
        ("talk.2", "2", 1.5, 2.8, "Today we sign"),  # the rolling line it repeats is cut
        ("talk.4", "4", 3.0, 3.4, "an aside"),  # inside a cue that was dropped: kept
        ("talk.5", "5", 3.5, 3.9, "see you"),
    ]
    assert {s.video_name for s in report.kept} == {"talk"}  # yt-dlp's language tag is not the video's
    assert [(d.sentence_name, d.reason.split(":")[0], d.row) for d in report.dropped] == [
        ("talk.3", "empty caption", 19)
    ]


def test_subrip_with_dots_markup_mojibake_and_a_broken_timing_line(tmp_path):
    path = tmp_path / "lecture.srt"
    path.write_text(SRT)
    report, _ = read_metadata([path])
    assert [(s.sentence_name, s.start, s.text) for s in report.kept] == [
        ("lecture.1", 0.2, "Good morning"),
        ("lecture.2", 1.3, "café time (and tea)"),
        ("lecture.4", 2.9, "thank you"),
    ]
    (broken,) = report.dropped
    assert broken.sentence_name == "lecture.3" and broken.row == 11
    assert broken.reason == "malformed cue: timing line '00:00:02,500 --> 00:00:0X,000' is not START --> END"
    # UTF-16 with a BOM reads the same; Latin-1 is one line naming the file
    path.write_bytes(SRT.encode("utf-16"))
    assert len(read_metadata([path])[0].kept) == 3
    path.write_bytes("1\n00:00:00,000 --> 00:00:01,000\ncaf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"lecture.srt: not UTF-8 text \(invalid continuation byte at byte 35\)"):
        read_metadata([path])
    path.write_text("1\n00:00:0X,000 --> 00:00:01,000\nhello\n")
    with pytest.raises(InputError, match="lecture.srt: no cue has a readable timing line"):
        read_metadata([path])
    path.write_text("just some notes\n")
    with pytest.raises(InputError, match="lecture.srt: no caption cue here"):
        read_metadata([path])


@pytest.mark.parametrize(
    ("line", "clean"),
    [
        ("<i>Hello</i> <b>there</b>", "Hello there"),
        ('<font color="red">red</font> &lt;3 &amp; more&nbsp;here', "red <3 & more here"),
        ("<v.loud Ann Smith>I said <c.x.y>so</c>", "I said so"),
        ("<00:00:01.200><c>rolling</c><00:00:01.500><c> words</c>", "rolling words"),
        (">> It's me", "It's me"),
        ("- Yes", "Yes"),
        ("-No", "No"),
        ("JOHN SMITH: over there", "over there"),
        ("Time: noon", "Time: noon"),  # not an upper-case label
        ("\u266a la la \u266b", "la la"),
        ("[MUSIC PLAYING]", ""),
        ("(applause) thanks (you know)", "thanks (you know)"),
        ("(LAUGHTER)", ""),
        ("caf\u00c3\u00a9", "café"),
        ("  spaced \t out  ", "spaced out"),
    ],
)
def test_caption_markup_and_sound_descriptions_are_removed(line, clean):
    assert clean_line(line) == clean


def test_openasl_tsv_as_released(tmp_path):
    rows = [
        ("-abc-00:00:02.270-00:00:05.000", "-abc", "00:00:02.270", "00:00:05.000", "Hi, I'm Deaf.", "hi", "", "train"),
        ("-abc-00:00:05.100-00:00:07.000", "-abc", "00:00:05.100", "00:00:07.000", "Nice to meet.", "", "", "train"),
        ("xyz-00:00:01.000-00:00:02.000", "xyz", "1.0", "2.5", "A question?", "x", "", "valid"),
        ("xyz-00:00:03.000-00:00:04.000", "xyz", "00:00:03.000", "00:00:04.000", "Last one.", "x", "", "test"),
        ("xyz-00:00:05.000-00:00:06.000", "xyz", "00:00:05.000", "00:00:06.000", "Odd split.", "x", "", "holdout"),
    ]  # fmt: skip
    path = tmp_path / "openasl-v1.0.tsv"
    path.write_text(OPENASL + "".join("\t".join(r) + "\n" for r in rows))
    assert recognize(path).name == "captions"
    report, _ = read_metadata([path])
    first = report.kept[0]
    # the clip's name as OpenASL's crop script writes its file (':' as '%'); the full video is yid
    assert (first.sentence_name, first.video_name, first.start, first.end) == (
        "-abc-00%00%02.270-00%00%05.000",
        "-abc",
        2.27,
        5.0,
    )
    assert first.text == "Hi, I'm Deaf." and first.split == "train"
    assert [s.split for s in report.kept] == ["train", "train", "val", "test"]
    assert report.kept[2].end == 2.5  # seconds are times too
    assert [d.reason for d in report.dropped] == [
        "malformed row: split 'holdout' is none of train, val, valid, validation, dev, test"
    ]
    assert report.ignored_columns == {str(path): ["tokenized-text"]}
    assert data_language(DataConfig(metadata=[str(path)])) == "asl-en"


def test_a_caption_table_with_other_column_names_and_its_problem_rows(tmp_path):
    path = tmp_path / "my_captions_val.csv"
    path.write_text(
        "Video,Start_Time,End_Time,Caption\n"
        "rec1,0,1.5,first\n"
        "rec1,1.5,1.5,zero length\n"
        "rec1,2,1,inverted\n"
        "rec1,-1,0.5,negative\n"
        "rec1,1.6,2.5,second\n"
        "rec1,1.7,2.4,inside the second\n"
        "rec1,3,soon,not a time\n"
        "rec1,3,4,[APPLAUSE]\n"
        "rec1,3\n"
    )
    report, _ = read_metadata([path])
    assert [(s.sentence_name, s.text, s.split) for s in report.kept] == [
        ("rec1.1", "first", "val"),
        ("rec1.5", "second", "val"),
    ]
    reasons = sorted(d.reason.split(":")[0] for d in report.dropped)
    assert reasons == ["bad interval"] * 3 + ["empty caption", "malformed row", "malformed row", "overlapping"]
    assert report.read["val"] == 9
    path.write_text("video,start,end\nrec1,0,1\n")
    with pytest.raises(InputError, match=r"my_captions_val.csv: caption table: missing column\(s\) text \(text: text"):
        read_metadata([path])


def test_rolling_captions_repeat_the_previous_line_and_are_merged(tmp_path):
    path = tmp_path / "auto.vtt"
    path.write_text(
        vtt_cues(
            (0.0, 1.0, "we are going"),
            (1.0, 1.01, "we are going"),  # YouTube's 10 ms transition cue
            (1.01, 2.0, "we are going\nto the park"),
            (2.0, 3.0, "to the park\ntoday"),
            (5.0, 6.0, "today"),  # said again later: a caption of its own
        )
    )
    report, _ = read_metadata([path])
    assert [(s.text, s.start, s.end) for s in report.kept] == [
        ("we are going", 0.0, 1.01),
        ("to the park", 1.01, 2.0),
        ("today", 2.0, 3.0),
        ("today", 5.0, 6.0),
    ]
    assert [d.reason.split(":")[0] for d in report.dropped] == ["repeated caption"]


def test_captions_that_partly_overlap_are_kept_and_counted(tmp_path):
    path = tmp_path / "talk.vtt"
    path.write_text(vtt_cues((0.0, 2.0, "one sentence"), (1.5, 3.0, "another one"), (3.0, 4.0, "a third")))
    report, _ = read_metadata([path])
    assert [s.text for s in report.kept] == ["one sentence", "another one", "a third"] and not report.dropped
    assert report.overlapping == 1
    assert "overlap: 1 rows kept start before the previous one ends (kept as timed)" in report.summary()


def test_splits_from_the_folders_else_a_stable_hash_of_the_video(tmp_path):
    for folder, name in (("train", "a"), ("train/day1", "b"), ("dev", "c"), ("test", "d"), ("misc", "e")):
        (tmp_path / "subs" / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / "subs" / folder / f"{name}.vtt").write_text(vtt_cues((0, 1, f"sentence {name}")))
    assert recognize(tmp_path / "subs").name == "captions"
    report, _ = read_metadata([tmp_path / "subs"])
    splits = {s.video_name: s.split for s in report.kept}
    assert splits == {"a": "train", "b": "train", "c": "val", "d": "test", "e": hash_split("e")}
    # the hash split: stable, about 90/5/5
    counts = Counter(hash_split(f"video{i}") for i in range(4000))
    assert counts["train"] / 4000 == pytest.approx(0.90, abs=0.02)
    assert counts["val"] / 4000 == pytest.approx(0.05, abs=0.015)
    assert counts["test"] / 4000 == pytest.approx(0.05, abs=0.015)
    assert [hash_split("my_recording") for _ in range(3)] == [hash_split("my_recording")] * 3
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty: no .vtt or .srt caption file in this folder or below"):
        read_metadata([tmp_path / "empty"], "captions")


def test_context_is_the_captions_before_in_the_same_video(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "v.vtt").write_text(vtt_cues((2, 3, "two"), (0, 1, "zero"), (1, 2, "one"), (3, 4, "three")))
    train = load_sentences(DataConfig(metadata=[str(tmp_path / "train")]), "train")
    builder = TaskBuilder(train, window=ContextWindow(prelude=0, preceding=2), seed=0)
    last = next(s for s in train if s.text == "three")
    assert builder.translation(last).context == ("one", "two")


def test_seconds_parses_ffmpeg_times_and_numbers():
    assert seconds("00:00:02.270") == pytest.approx(2.27)
    assert seconds("01:02:03,5") == pytest.approx(3723.5)
    assert seconds("02:03") == 123 and seconds(" 4.5 ") == 4.5
    with pytest.raises(ValueError):
        seconds("soon")


def captioned_videos(root: Path) -> tuple[Path, Path]:
    """Three 4-s videos (10 fps) with caption files beside them in split folders, one caption file without its
    video, and one cue past its video's end."""
    videos, subs = root / "videos", root / "subs"
    for name in ("vid_a", "vid_b", "vid_c"):
        write_video(videos / f"{name}.mp4", frames=40, fps=10, size=(64, 48))
    cues = [(0.2, 1.2, "hello there"), (1.3, 2.4, "good morning"), (2.5, 3.6, "thank you")]
    (subs / "train").mkdir(parents=True)
    (subs / "val").mkdir()
    (subs / "train" / "vid_a.vtt").write_text(vtt_cues(*cues, (3.7, 4.5, "runs past the end"), (4.2, 5.0, "after it")))
    (subs / "train" / "vid_b.en.srt").write_text(
        "".join(
            f"{i}\n00:00:0{a:.3f} --> 00:00:0{b:.3f}\n{t}\n\n".replace(".", ",") for i, (a, b, t) in enumerate(cues, 1)
        )
    )
    (subs / "val" / "vid_c.vtt").write_text(vtt_cues(*cues))
    (subs / "val" / "vid_gone.vtt").write_text(vtt_cues(*cues))
    return videos, subs


def test_data_check_and_data_passages_on_captioned_videos(tmp_path):
    videos, subs = captioned_videos(tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["data", "check", str(subs), "--videos", str(videos), "-o", str(tmp_path / "m.tsv")])
    assert done.exit_code == 0, done.output
    assert "dataset: captions" in done.output
    assert "dropped: 3 x missing video" in done.output and "dropped: 1 x past the end" in done.output
    assert "clipped: 1 rows" in done.output
    manifest = load_sentences(DataConfig(metadata=[str(tmp_path / "m.tsv")]), "train")
    assert len(manifest) == 7 and manifest[3].end == pytest.approx(4.0)  # vid_a.4 clipped to the video's end
    dropped = (tmp_path / "m.dropped.tsv").read_text()
    assert "vid_gone.1\tmissing video: neither vid_gone nor vid_gone.1 found" in dropped
    # a caption file whose video is nowhere: one line
    lone = tmp_path / "lone"
    write_video(lone / "unrelated.mp4", frames=5)
    gone = str(subs / "val" / "vid_gone.vtt")
    done = runner.invoke(app, ["data", "check", gone, "--videos", str(lone), "-o", str(tmp_path / "x.tsv")])
    assert isinstance(done.exception, InputError), done.output  # the console script: exit 2, this one line
    assert str(done.exception).startswith(f"{lone}: no video here is any sentence's")
    # passages of >= 2 s: each video's captions joined in time order, within a split
    done = runner.invoke(app, ["data", "passages", str(subs), "--seconds", "2", "-o", str(tmp_path / "p.tsv")])
    assert done.exit_code == 0, done.output
    passages = load_sentences(DataConfig(metadata=[str(tmp_path / "p.tsv")]), "train")
    first = next(p for p in passages if p.video_name == "vid_a")
    assert first.text == "hello there good morning" and (first.start, first.end) == (0.2, 2.4)
    done = runner.invoke(app, ["data", "list"])
    assert "captions: videos with timed captions" in done.output and "90 % train, 5 % val, 5 % test" in done.output


def test_train_evaluate_and_submit_on_captioned_videos(llm_dir, tmp_path):
    """Poses extracted from the full videos, sentences cut from them by the captions' times."""
    from pose.config_loader import save_config
    from signllava.cluster.launcher import submit
    from signllava.evaluate import EvalConfig, evaluate
    from signllava.model.build import TrainConfig, TrainOptim, trained_config
    from signllava.model.model import ModelConfig, StreamConfig
    from signllava.train import train

    videos, subs = captioned_videos(tmp_path)
    (subs / "val" / "vid_gone.vtt").unlink()
    (subs / "train" / "vid_a.vtt").write_text(vtt_cues((0.2, 1.2, "hello there"), (1.3, 2.4, "good morning")))
    done = CliRunner().invoke(app, ["extract-poses", str(videos), "-o", str(tmp_path / "poses"), "-q", "-w", "1"])
    assert done.exit_code == 0, done.output
    data = DataConfig(metadata=[str(subs)], streams={"pose": StreamInput(poses=str(tmp_path / "poses"))})
    cfg = TrainConfig(
        model=ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(208, stride=4)}),
        data=data,
        optim=TrainOptim(max_steps=2, batch_size=2, warmup_ratio=0.0),
        output_dir=str(tmp_path / "run"),
        device="cpu",
    )
    assert train(cfg, progress=False)["steps"] == 2
    assert trained_config(tmp_path / "run" / "last").model.language == "asl-en"
    report = evaluate(
        EvalConfig(checkpoint=str(tmp_path / "run" / "last"), split="val", num_beams=1, max_new_tokens=4, qa=[]),
        progress=False,
    )
    hyps = {h["sentence_name"]: h for h in report["hypotheses"]}
    assert report["sentences"] == 3 and sorted(hyps) == ["vid_c.1", "vid_c.2", "vid_c.3"]
    assert hyps["vid_c.3"]["reference"] == "thank you" and "good morning" in hyps["vid_c.3"]["context"]
    # the same stage through submit (in this process: no scheduler needed)
    save_config(cfg, tmp_path / "train.yaml")
    overrides = [f"output_dir={tmp_path / 'submitted'}", "optim.max_steps=1"]
    profile = Path(__file__).parents[3] / "slurm" / "local.yaml"
    job = submit("train", profile, tmp_path / "train.yaml", overrides, local=True)
    assert job.results[0][0]["steps"] == 1


@pytest.mark.slurm
def test_a_training_job_on_slurm_reads_captioned_videos(slurm, tmp_path, train_overrides):
    """`submit train` on a real SLURM controller (CI starts one; elsewhere this skips), data from caption files."""
    from signllava.cluster.job_status import status_lines, wait
    from signllava.cluster.launcher import submit

    videos, subs = captioned_videos(tmp_path)
    (subs / "val" / "vid_gone.vtt").unlink()
    done = CliRunner().invoke(app, ["extract-poses", str(videos), "-o", str(tmp_path / "poses"), "-q", "-w", "1"])
    assert done.exit_code == 0, done.output
    # as the README has it: `data check --videos` first (it drops the cue past vid_a's end), then train on its manifest
    manifest = tmp_path / "m.tsv"
    done = CliRunner().invoke(app, ["data", "check", str(subs), "--videos", str(videos), "-o", str(manifest)])
    assert done.exit_code == 0, done.output
    run = tmp_path / "run"
    data = {"data.metadata": f"[{manifest}]", "data.streams.pose.poses": str(tmp_path / "poses")}
    profile = Path(__file__).parents[3] / "slurm" / "local.yaml"
    sub = submit("train", profile, overrides=train_overrides(run, 2, **data))
    status = wait(sub.logs, sub.record, timeout_s=600)
    assert [t.state for t in status.tasks] == ["COMPLETED"], status_lines(run)
    assert json.loads((run / "last" / "meta.json").read_text())["step"] == 2
