"""The command line: every stage from the shell, one-line errors, and the embedded default model."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from pose.config import ExtractConfig
from pose.config_loader import load_config
from pose.errors import InputError
from pose.io import read_pose
from signllava.cli import app
from signllava.demo import heldout_document
from tests.conftest import realdata

runner = CliRunner()


def signllava(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signllava", *args], capture_output=True, text=True)


def test_help_lists_the_stages():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("extract-poses", "visualize-pose", "show-config"):
        assert command in result.output


def test_extract_and_visualize(make_video, tmp_path):
    video = make_video(frames=10, size=(128, 96))
    out = tmp_path / "poses"
    result = signllava("extract-poses", str(video), "-o", str(out), "--fps", "20", "-q")
    assert result.returncode == 0, result.stderr
    assert "1 extracted" in result.stdout
    pose = read_pose(out / "clip.pose")
    assert pose.body.fps == 20 and len(pose.body.data) == 8
    saved = load_config(ExtractConfig, out / "extract_poses.yaml")
    assert saved.video.target_fps == 20
    png = tmp_path / "sheet.png"
    result = signllava("visualize-pose", str(out / "clip.pose"), "--video", str(video), "-o", str(png))
    assert result.returncode == 0, result.stderr
    assert png.stat().st_size > 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["--workers", "-3"], "config value workers=-3 is invalid"),
        (["--set", "holistic.nonsense=1"], "bad config: Key 'nonsense' not in 'HolisticConfig'"),
        (["--set", "holistic.model_complexity=7"], "holistic.model_complexity=7 is invalid"),
        (["--shard", "3", "--num-shards", "2"], "shard=3 is invalid"),
    ],
)
def test_bad_config_is_one_line(make_video, tmp_path, args, message):
    result = signllava("extract-poses", str(make_video(frames=2)), "-o", str(tmp_path / "o"), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "clip.pose").exists()


def test_missing_video_fails_clearly(tmp_path):
    result = signllava("extract-poses", str(tmp_path / "gone.mp4"), "-o", str(tmp_path / "o"), "-q")
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.count("gone.mp4: file not found") == 1, output  # said once, as it happened
    assert "1 failed" in result.stdout
    assert (tmp_path / "o" / "extract_poses.failures.tsv").exists()


def test_show_config():
    result = runner.invoke(app, ["show-config", "extract-poses", "--set", "workers=5"])
    assert result.exit_code == 0 and "workers: 5" in result.output and "model_complexity: 1" in result.output


@pytest.mark.slow
def test_extract_real_clip_folder(tmp_path):
    clips = realdata("how2sign", "clips")
    manifest = tmp_path / "two.txt"
    manifest.write_text("\n".join(str(p) for p in sorted(clips.glob("*.mp4"))[:2]) + "\n")
    result = signllava("extract-poses", str(manifest), "-o", str(tmp_path / "o"), "--workers", "2", "-q")
    assert result.returncode == 0, result.stderr
    poses = sorted((tmp_path / "o").glob("*.pose"))
    assert len(poses) == 2
    for p in poses:
        pose = read_pose(p)
        assert pose.header.dimensions.width == 1280 and pose.body.confidence.any()


def test_data_check_on_official_metadata(tmp_path):
    meta = realdata("how2sign_metadata")
    out = tmp_path / "manifest.tsv"
    result = runner.invoke(
        app,
        [
            "data",
            "check",
            str(meta / "how2sign_realigned_val.csv"),
            str(meta / "how2sign_realigned_test.csv"),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "test        2357    2357        0" in result.output
    assert "val         1741    1740        1" in result.output and "1 x too short" in result.output
    assert len(out.read_text().splitlines()) == 1 + 2357 + 1740
    dropped = (tmp_path / "manifest.dropped.tsv").read_text().splitlines()
    assert len(dropped) == 2 and "a5yNwUSiYpA_12-5-rgb_front" in dropped[1]


def test_data_check_bad_file_is_one_line(tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("A,B\n1,2\n")
    result = signllava("data", "check", str(bad), "-o", str(tmp_path / "m.tsv"))
    assert result.returncode == 2 and "broken.csv: not How2Sign realigned metadata" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_features_describe(tmp_path):
    import numpy as np

    from pretrain import FeatureStore

    with FeatureStore.writer(tmp_path / "store", "pose", "job0") as w:
        w.add("clip1", np.zeros((5, 208)))
    result = runner.invoke(app, ["features", "describe", str(tmp_path / "store")])
    assert result.exit_code == 0 and "pose" in result.output and "208" in result.output
    result = signllava("features", "describe", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "nothing: feature store not found" in result.stderr


def test_data_synth_then_check(tmp_path):
    out = tmp_path / "synth"
    result = runner.invoke(
        app,
        [
            "data",
            "synth",
            "-o",
            str(out),
            "--size",
            "tiny",
            "--seed",
            "3",
            "-q",
            "--no-documents",
            "--set",
            "train_docs=2",
            "--set",
            "val_docs=1",
            "--set",
            "test_docs=1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "train:" in result.output and (out / "how2sign_realigned_test.csv").is_file()
    result = runner.invoke(
        app, ["data", "check", *map(str, sorted(out.glob("how2sign_realigned_*.csv"))), "-o", str(tmp_path / "m.tsv")]
    )
    assert result.exit_code == 0 and "dropped:" not in result.output  # no row dropped
    again = signllava("data", "synth", "-o", str(out), "--size", "tiny", "-q")
    assert again.returncode == 2 and "synth" in again.stderr and len(again.stderr.strip().splitlines()) == 1


def test_cli_train_then_evaluate(llm_dir, dataset, tmp_path):
    from typer.testing import CliRunner

    from signllava.cli import app

    meta, store = dataset.metadata[0], dataset.streams["pose"].store
    common = [
        f"model.llm={llm_dir}",
        "model.streams.pose.dim=8",
        f"data.metadata=[{meta}]",
        f"data.streams.pose.store={store}",
        "data.context.prelude=0",
        "optim.max_steps=2",
        "optim.batch_size=3",
        "device=cpu",
        f"output_dir={tmp_path / 'run'}",
    ]
    runner = CliRunner()
    args = ["train", "-q", *[a for c in common for a in ("--set", c)]]
    result = runner.invoke(app, [*args, "--stop-after", "1"])
    assert result.exit_code == 0 and "trained 1 steps" in result.output, result.output
    result = runner.invoke(app, args)  # resumes: step 2 of 2
    assert result.exit_code == 0, result.output
    assert "trained 2 steps" in result.output
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(tmp_path / "run" / "last"),
            "--split",
            "train",
            "--beam",
            "1",
            "-q",
            "--set",
            "max_new_tokens=4",
            "--set",
            "qa=[]",
            "--set",  # other data: the rest of the data section (streams, context window) stays the checkpoint's
            f"data.metadata=[{meta}]",
            "-o",
            str(tmp_path / "eval.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "BLEU-1/2/3/4" in result.output and "nrefs:1" in result.output
    assert "reference translations (reference context):" in result.output and "perplexity" in result.output
    assert "on another sentence's clip" in result.output
    data = json.loads((tmp_path / "eval.json").read_text())["config"]["data"]
    assert data["context"]["prelude"] == 0 and data["streams"]["pose"]["store"] == str(store)
    result = runner.invoke(app, ["train", "--stage", "2"])
    assert isinstance(result.exception, InputError) and "--init-from" in str(result.exception)


def test_translate_and_ask_default_to_the_embedded_model(tmp_path):
    clip = tmp_path / "s" / "poses" / f"{heldout_document(tmp_path / 's')[0].sentence_name}.pose"
    result = runner.invoke(app, ["translate", str(clip), "--beam", "1"])
    assert result.exit_code == 0 and result.stdout.strip()
    assert "knows only synthetic signing" in result.stderr
    answer = runner.invoke(app, ["ask", str(clip), "Is the video reversed?"])
    assert answer.exit_code == 0 and answer.stdout.strip().lower().rstrip(".") in ("yes", "no")
