from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from pose.config import ExtractConfig
from pose.config_loader import load_config
from pose.errors import InputError
from pose.io import read_pose
from signllava.cli import app
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
    assert "gone.mp4: file not found" in result.stdout
    assert (tmp_path / "o" / "extract_poses.failures.tsv").exists()


def test_bad_config_file(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("holistic: [unclosed\n")
    with pytest.raises(InputError, match="c.yaml: not a valid YAML config"):
        load_config(ExtractConfig, cfg)


def test_config_layers(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("workers: 3\nholistic:\n  model_complexity: 2\n")
    loaded = load_config(ExtractConfig, cfg, ["workers=4"])
    assert loaded.workers == 4 and loaded.holistic.model_complexity == 2 and loaded.video.backend == "auto"


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
