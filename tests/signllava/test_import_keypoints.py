"""``signllava import-keypoints``: the original SignLLaVA's keypoint JSON into ``OUT/<video>/<clip>.pose``, and
from there, with the original's annotation JSON, into training and evaluation."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from pose.io import read_pose
from signllava.cli import app
from signllava.data.how2sign import Sentence
from signllava.data.poses import sentence_features
from tests.conftest import realdata
from tests.pose.test_keypoints_json import REAL, write_keypoints

runner = CliRunner()
WORDS = "the horse walks to the barn and eats fresh hay while we brush its mane slowly".split()


def clips(folder: Path, videos: dict[str, int], length: int = 10, seed: int = 0) -> list[tuple[str, str]]:
    """Keypoint files ``<video>.<start>-<end>.json`` of ``videos`` (name -> clips), each ``length`` frames of
    one video after the other; returns ``(video, clip)`` in signing order."""
    made = []
    for v, (video, n) in enumerate(videos.items()):
        for c in range(n):
            start = 100 + c * (length + 5)
            clip = f"{video}.{start:06d}-{start + length - 1:06d}"
            write_keypoints(folder / f"{clip}.json", frames=length, seed=seed + 10 * v + c)
            made.append((video, clip))
    return made


def annotations(path: Path, made: list[tuple[str, str]]) -> dict[str, str]:
    """The original's ``annotation.<split>.json`` for ``made``; returns {video/clip: translation}."""
    rng = random.Random(path.name)
    doc, texts = {}, {}
    for video, clip in made:
        doc.setdefault(video, {"clip_order": []})["clip_order"].append(clip)
        text = " ".join(rng.sample(WORDS, 4))
        keywords = rng.sample(text.split(), 2)
        doc[video][clip] = {"translation": text, "keywords": keywords, "paraphrases": [" ".join(rng.sample(WORDS, 4))]}
        texts[f"{video}/{clip}"] = text
    path.write_text(json.dumps(doc))
    return texts


def run(*args) -> object:
    return runner.invoke(app, ["import-keypoints", *map(str, args)])


def test_clips_go_to_video_folders_and_other_names_mirror_the_input(tmp_path):
    src = tmp_path / "kp_25fps"
    clips(src, {"vidA": 2})
    write_keypoints(src / "sub" / "vidB.000000-000005.json")  # a clip below a folder: by its video all the same
    write_keypoints(src / "other" / "my clip.json")
    result = run(src, "-o", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    assert "4 imported, 0 already done (skipped), 0 failed" in result.output
    made = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.pose"))
    assert made == [
        "other/my clip.pose",
        "vidA/vidA.000100-000109.pose",
        "vidA/vidA.000115-000124.pose",
        "vidB/vidB.000000-000005.pose",
    ]
    pose = read_pose(tmp_path / "out" / "vidB" / "vidB.000000-000005.pose")
    assert pose.body.fps == 25 and len(pose.body.data) == 6
    assert not (tmp_path / "out" / "import_keypoints.failures.tsv").exists()


def test_existing_outputs_are_skipped_unless_overwrite(tmp_path):
    src = write_keypoints(tmp_path / "v.000000-000005.json")
    out = tmp_path / "out"
    assert run(src, "-o", out, "--fps", 25).exit_code == 0
    target = out / "v" / "v.000000-000005.pose"
    before = target.stat().st_mtime_ns
    again = run(src, "-o", out, "--fps", 30)
    assert again.exit_code == 0 and "0 imported, 1 already done (skipped)" in again.output
    assert target.stat().st_mtime_ns == before and read_pose(target).body.fps == 25
    redo = run(src, "-o", out, "--fps", 30, "--overwrite")
    assert redo.exit_code == 0 and "1 imported" in redo.output and read_pose(target).body.fps == 30


def test_size_given(tmp_path):
    src = write_keypoints(tmp_path / "v.000000-000005.json")
    assert run(src, "-o", tmp_path / "out", "--fps", 25, "--size", "1280x720").exit_code == 0
    dims = read_pose(tmp_path / "out" / "v" / "v.000000-000005.pose").header.dimensions
    assert (dims.width, dims.height) == (1280, 720)


def test_a_bad_file_in_a_batch_is_reported_and_the_others_imported(tmp_path):
    src = tmp_path / "kp"
    clips(src, {"vidA": 2})
    (src / "vidA.000200-000200.json").write_text('{"joints": {"0": {"pose_landmarks": []}}}')
    result = run(src, "-o", tmp_path / "out", "--fps", 25)
    assert result.exit_code == 1
    assert "2 imported, 0 already done (skipped), 1 failed" in result.output
    failures = (tmp_path / "out" / "import_keypoints.failures.tsv").read_text().splitlines()
    assert len(failures) == 2 and "vidA.000200-000200.json: frame 0 has no face_landmarks" in failures[1]
    assert not (tmp_path / "out" / "vidA" / "vidA.000200-000200.pose").exists()
    (src / "vidA.000200-000200.json").unlink()  # fixed: the rerun has nothing left to do, and no failure list
    again = run(src, "-o", tmp_path / "out", "--fps", 25)
    assert again.exit_code == 0 and not (tmp_path / "out" / "import_keypoints.failures.tsv").exists()


def test_one_bad_file_alone_fails_the_call_and_writes_nothing(tmp_path):
    bad = tmp_path / "v.000000-000000.json"
    bad.write_text('{"joints": {"0": {"pose_landmarks": []}}}')
    result = run(bad, "-o", tmp_path / "out", "--fps", 25)
    assert isinstance(result.exception, InputError) and "frame 0 has no face_landmarks" in str(result.exception)
    assert not (tmp_path / "out").exists()


def test_unknown_frame_rate_or_colliding_outputs_stop_before_anything_is_written(tmp_path):
    src = tmp_path / "kp"
    clips(src, {"vidA": 1})
    result = run(src, "-o", tmp_path / "out")
    assert isinstance(result.exception, InputError) and "no frame rate" in str(result.exception)
    write_keypoints(src / "again" / "vidA.000100-000109.json")
    result = run(src, "-o", tmp_path / "out", "--fps", 25)
    assert isinstance(result.exception, InputError) and "collides" in str(result.exception)
    assert not (tmp_path / "out").exists()


def test_an_imported_file_is_drawn(tmp_path):
    src = write_keypoints(tmp_path / "v.000000-000005.25fps.json")
    assert run(src, "-o", tmp_path / "out").exit_code == 0
    png = tmp_path / "sheet.png"
    drawn = runner.invoke(app, ["visualize-pose", str(tmp_path / "out" / "v" / "v.000000-000005.pose"), "-o", str(png)])
    assert drawn.exit_code == 0, drawn.output
    import cv2

    image = cv2.imread(str(png))
    assert image is not None and (image < 200).any()  # a skeleton on the white sheet


def test_a_sentence_video_clip_finds_its_pose_among_clips_of_the_same_name(tmp_path):
    """JSALT sentence names are video/clip; clip names repeat across videos (clip_1 in each)."""
    for video, frames in (("v1", 4), ("v2", 7)):
        write_keypoints(tmp_path / "kp" / video / "clip_1.json", frames=frames)
    assert run(tmp_path / "kp", "-o", tmp_path / "out", "--fps", 25).exit_code == 0
    sents = [Sentence(v, v, "clip_1", f"{v}/clip_1", 0, 0, "hello", order=0) for v in ("v1", "v2")]
    got = {s.sentence_name: f.shape for s, f in sentence_features(sents, tmp_path / "out")}
    assert got == {"v1/clip_1": (4, 208), "v2/clip_1": (7, 208)}
    # and the lookups there were stay: a clip by its name alone
    one = [Sentence("v1", "v1", "clip_1", "clip_1", 0, 0, "hello")]
    assert next(sentence_features(one, tmp_path / "out"))[1].shape[1] == 208


def _train_settings(llm_dir: str, metadata: list[Path], poses: Path, run_dir: Path) -> dict[str, object]:
    """A 2-step tiny-LLM training run on the imported poses (pose stream, 208 values a frame)."""
    return {
        "model.llm": llm_dir,
        "model.streams.pose.dim": 208,
        "model.streams.pose.stride": 4,
        "data.metadata": "[" + ",".join(map(str, metadata)) + "]",
        "data.streams.pose.poses": str(poses),
        "optim.max_steps": 2,
        "optim.batch_size": 2,
        "optim.lr": 0.03,
        "optim.warmup_ratio": 0.0,
        "output_dir": str(run_dir),
        "device": "cpu",
        "save_every": 100000,
    }


def _train_and_evaluate(llm_dir: str, metadata: list[Path], poses: Path, run_dir: Path, split: str) -> dict:
    settings = _train_settings(llm_dir, metadata, poses, run_dir)
    args = [a for k, v in settings.items() for a in ("--set", f"{k}={v}")]
    trained = runner.invoke(app, ["train", "-q", *args])
    assert trained.exit_code == 0, trained.output
    assert "trained 2 steps" in trained.output
    report = run_dir / "eval.json"
    evaluated = runner.invoke(
        app,
        [
            *("evaluate", str(run_dir / "last"), "--split", split, "--beam", "1", "-q", "-o", str(report)),
            *("--set", "max_new_tokens=4", "--set", "qa=[reversed]"),
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert "BLEU-1/2/3/4" in evaluated.output
    return json.loads(report.read_text())


def test_keypoint_json_and_annotations_train_and_evaluate(llm_dir, tmp_path):
    """The original's two kinds of files, made here: keypoint JSON per clip and annotation JSON per split ->
    import-keypoints -> a tiny model trains on the imported poses -> evaluate scores the dev clips."""
    src = tmp_path / "youtube_asl_25fps"
    train_clips = clips(src, {"vidA": 3, "vidB": 2})
    dev_clips = clips(src, {"vidC": 2}, length=8, seed=50)
    train_json, dev_json = tmp_path / "annotation.train.json", tmp_path / "annotation.dev.json"
    annotations(train_json, train_clips)
    dev_texts = annotations(dev_json, dev_clips)
    imported = run(src, "-o", tmp_path / "poses", "-q")
    assert imported.exit_code == 0 and "7 imported" in imported.output, imported.output
    report = _train_and_evaluate(llm_dir, [train_json, dev_json], tmp_path / "poses", tmp_path / "run", "val")
    assert report["sentences"] == 2 and report["qa"]["reversed"]["n"] == 4
    hyps = {h["sentence_name"]: h for h in report["hypotheses"]}
    assert sorted(hyps) == sorted(dev_texts)
    assert all(hyps[name]["reference"] == text for name, text in dev_texts.items())
    meta = json.loads((tmp_path / "run" / "last" / "meta.json").read_text())
    assert meta["poses"]["fps"] == 25  # the imported rate travels with the model


def test_the_real_keypoint_file_trains_and_evaluates(llm_dir, tmp_path):
    """The real clip, under an annotation that names it as the original's annotations name their clips (the
    real annotation subset holds other videos: its clip names are checked in tests/pose/test_keypoints_json)."""
    real = realdata(*REAL)
    src = tmp_path / "kp"
    src.mkdir()
    shutil.copy(real, src / real.name)
    video, clip = "ZZseM50QsOg", real.name[: -len(".json")]
    made = clips(src, {"madeUp": 2}, length=68)  # the training clips: made up beside the real one
    for split, listed in (("train", made), ("dev", [(video, clip)])):
        doc = {}
        for v, c in listed:
            doc.setdefault(v, {"clip_order": []})["clip_order"].append(c)
            doc[v][c] = {"translation": f"hello {c[-6:]}", "keywords": ["hello"], "paraphrases": []}
        (tmp_path / f"annotation.{split}.json").write_text(json.dumps(doc))
    assert run(src, "-o", tmp_path / "poses", "--fps", 30, "-q").exit_code == 0
    metadata = [tmp_path / "annotation.train.json", tmp_path / "annotation.dev.json"]
    report = _train_and_evaluate(llm_dir, metadata, tmp_path / "poses", tmp_path / "run", "val")
    assert report["sentences"] == 1 and report["hypotheses"][0]["sentence_name"] == f"{video}/{clip}"


def _youtube_asl_files(root: Path) -> tuple[Path, list[Path], dict[str, str]]:
    """The original's YouTube-ASL files, made here: keypoint JSON per clip (25 fps, from the folder's name) and
    annotation JSON per split with keywords; returns the keypoint folder, the annotation files and the dev
    clips' translations."""
    src = root / "youtube_asl_25fps"
    train_json, dev_json = root / "annotation.train.json", root / "annotation.dev.json"
    annotations(train_json, clips(src, {"vidA": 3, "vidB": 2}))
    dev = annotations(dev_json, clips(src, {"vidC": 3}, length=8, seed=50))
    return src, [train_json, dev_json], dev


def _pipeline_overrides(llm_dir: str, metadata: list[Path], poses: Path, run_dir: Path) -> list[str]:
    keyword_questions = {"data.tasks.sign_present": 0.5, "data.tasks.signs_present": 0.5}
    settings = _train_settings(llm_dir, metadata, poses, run_dir) | keyword_questions
    return [f"{k}={v}" for k, v in settings.items()]


def _check_keyword_report(report: dict, dev: dict[str, str], keywords: dict[str, list[str]]) -> None:
    assert report["sentences"] == 3 and sorted(h["sentence_name"] for h in report["hypotheses"]) == sorted(dev)
    for task in ("sign_present", "signs_present"):
        assert report["qa"][task]["n"] == report["qa"][task]["keyword_questions"]["n"] > 0  # every one a keyword's
    for row in report["qa_answers"]["sign_present"]:
        word = row["question"].split("'")[1]
        assert (row["answer"] == "yes") == (word in keywords[row["sentence_name"]])


def _keywords(path: Path) -> dict[str, list[str]]:
    doc = json.loads(path.read_text())
    return {f"{v}/{c}": [k.lower() for k in doc[v][c]["keywords"]] for v in doc for c in doc[v]["clip_order"]}


def test_the_originals_youtube_asl_files_through_submit(llm_dir, tmp_path):
    """import-keypoints, train (keyword questions) and evaluate as submitted stages, run here (`--local`: the
    same jobs without a scheduler; the SLURM test below runs them on a real controller)."""
    from signllava.cluster.launcher import submit

    src, metadata, dev = _youtube_asl_files(tmp_path)
    profile = Path(__file__).parents[2] / "slurm" / "local.yaml"
    imported = submit(
        "import-keypoints", profile, overrides=[f"inputs=[{src}]", f"output={tmp_path / 'poses'}"], local=True
    )
    assert sorted(r["done"] for job in imported.results for r in job) == [4, 4]  # two shards share them
    run = tmp_path / "run"
    trained = submit(
        "train", profile, overrides=_pipeline_overrides(llm_dir, metadata, tmp_path / "poses", run), local=True
    )
    assert trained.results[0][0]["steps"] == 2
    evaluated = submit(
        "evaluate",
        profile,
        overrides=[
            f"checkpoint={run / 'last'}",
            "split=val",
            "num_beams=1",
            "max_new_tokens=4",
            "qa=[sign_present,signs_present]",
        ],
        local=True,
    )
    report = json.loads(Path(evaluated.results[0][0]["output"]).read_text())
    keywords = _keywords(metadata[1])
    _check_keyword_report(report, dev, keywords)
    # the notebook asks a clip keyword questions, as the model was trained on them: a yes or no a keyword
    from signllava import QASession, Translator
    from signllava.data.tasks import QUESTIONS

    name = sorted(dev)[0]
    session = QASession(
        Translator.load(str(run / "last"), "cpu"), tmp_path / "poses" / f"{name}.pose", workdir=tmp_path / "qa"
    )
    asked = ", ".join(f"'{k}'" for k in keywords[name])
    answer = session.ask(QUESTIONS["signs_present"].format(words=asked))
    assert [a.strip() in ("yes", "no") for a in answer.split(",")] == [True] * len(keywords[name])


@pytest.mark.slurm
def test_the_originals_youtube_asl_files_on_slurm(slurm, llm_dir, tmp_path):
    """The same three stages as SLURM jobs: the import an array of two shards, training two DDP ranks."""
    from signllava.cluster.job_status import status_lines, wait
    from signllava.cluster.launcher import submit

    src, metadata, dev = _youtube_asl_files(tmp_path)
    profile = Path(__file__).parents[2] / "slurm" / "local.yaml"
    poses, run = tmp_path / "poses", tmp_path / "run"
    stages = (
        ("import-keypoints", [f"inputs=[{src}]", f"output={poses}"], poses),
        ("train", _pipeline_overrides(llm_dir, metadata, poses, run), run),
        (
            "evaluate",
            [
                f"checkpoint={run / 'last'}",
                "split=val",
                "num_beams=1",
                "max_new_tokens=4",
                "qa=[sign_present,signs_present]",
            ],
            run,
        ),
    )
    for stage, overrides, folder in stages:
        sub = submit(stage, profile, overrides=overrides)
        status = wait(sub.logs, sub.record, timeout_s=600)
        assert {t.state for t in status.tasks} == {"COMPLETED"}, (stage, status_lines(folder))
    assert len(list(poses.rglob("*.pose"))) == 8
    report = json.loads((run / "eval-val.json").read_text())  # beside the checkpoint, as evaluate puts it
    _check_keyword_report(report, dev, _keywords(metadata[1]))
