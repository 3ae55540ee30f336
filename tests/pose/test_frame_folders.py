"""A folder of numbered images is a video (RWTH-PHOENIX-2014T's PNGs, CSL-Daily's JPEGs), at a stated rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pose.batch import plan_outputs
from pose.errors import InputError, VideoError
from pose.video import VideoStream, frames_from_glob, is_frame_folder, probe


def frame_folder(folder: Path, n: int = 12, suffix: str = ".png", name: str = "images{:04d}") -> Path:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = np.full((26, 21, 3), 10 * i, np.uint8)  # frame i is gray level 10 * i
        cv2.imwrite(str(folder / (name.format(i + 1) + suffix)), img)
    return folder


def test_a_frame_folder_probes_and_decodes_in_frame_order(tmp_path):
    folder = frame_folder(tmp_path / "clip", n=12, name="images{}")  # images1 ... images12: numbers, not text
    assert is_frame_folder(folder) and not is_frame_folder(tmp_path)
    info = probe(folder)
    assert (info.fps, info.num_frames, info.width, info.height, info.backend) == (25.0, 12, 21, 26, "frames")
    levels = [int(f[0, 0, 0]) for f in VideoStream(folder).frames()]
    assert levels == [10 * i for i in range(12)]
    assert probe(folder, frames_fps=12.5).duration == pytest.approx(12 / 12.5)
    resampled = VideoStream(folder, target_fps=12.5, frames_fps=25)
    assert len(list(resampled.frames())) == 6


def test_damaged_frames_and_empty_folders_are_one_line(tmp_path):
    folder = frame_folder(tmp_path / "clip", n=3, suffix=".jpg")
    (folder / "images0002.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(VideoError, match=r"images0002\.jpg: frame 1 of its folder is not a readable image"):
        list(VideoStream(folder).frames())
    (folder / "images0002.jpg").unlink()
    with pytest.raises(VideoError, match="frames missing: frame numbers jump from 1 to 3 \\(1 missing\\)"):
        probe(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="a folder without frames"):
        probe(tmp_path / "empty")


def _png_chunk_past_its_end(png: bytes) -> bytes:
    """A PNG whose chunk after IHDR says it is 2 GB long, as a damaged byte made it."""
    ihdr_end = 8 + 12 + 13
    return png[:ihdr_end] + (2_200_000_000).to_bytes(4, "big") + png[ihdr_end + 4 :]


@pytest.mark.parametrize(
    "suffix, damage, says",
    [
        (".png", _png_chunk_past_its_end, "chunk runs past the end of the file"),
        (".jpg", lambda jpg: jpg[:-10], "cut short: the file ends before its end marker"),
        (".png", lambda png: png[:16] + (40_000).to_bytes(4, "big") + png[20:], "declares 40000 x 26 pixels"),
        (".jpg", lambda jpg: b"", "an empty file"),  # OpenCV's imdecode asserts on no bytes (a cv2.error)
    ],
)
def test_a_frame_whose_header_lies_is_refused_before_it_is_decoded(tmp_path, capfd, suffix, damage, says):
    """Found by fuzzing: OpenCV allocated a damaged PNG chunk's 2 GB before failing (seconds, gigabytes of memory),
    decoded a JPEG cut in half as a grey-filled frame without a word, and decoded whatever size a header declared;
    and libpng and libjpeg printed their own lines to the terminal beside our one."""
    folder = frame_folder(tmp_path / "clip", n=3, suffix=suffix)
    frame = folder / f"images0002{suffix}"
    frame.write_bytes(damage(frame.read_bytes()))
    with pytest.raises(
        VideoError, match=f"images0002\\{suffix}: frame 1 of its folder is not a readable image.*{says}"
    ):
        list(VideoStream(folder).frames())
    (folder / f"images0001{suffix}").write_bytes(frame.read_bytes())
    with pytest.raises(VideoError, match=says):
        probe(folder)
    assert capfd.readouterr().err == ""


def test_a_frame_of_another_size_is_refused_from_its_header(tmp_path):
    import cv2

    folder = frame_folder(tmp_path / "clip", n=3)
    cv2.imwrite(str(folder / "images0003.png"), np.zeros((30, 21, 3), np.uint8))
    with pytest.raises(VideoError, match=r"images0003\.png: frame 2 changes size to 21x30"):
        list(VideoStream(folder).frames())


def test_a_glob_of_one_videos_frames_is_its_folder(tmp_path):
    folder = frame_folder(tmp_path / "train" / "name-1", n=2)
    assert frames_from_glob(tmp_path / "train" / "name-1" / "*.png") == folder
    assert frames_from_glob(folder) == folder  # no pattern: the path itself
    frame_folder(tmp_path / "train" / "name-2", n=2)
    with pytest.raises(VideoError, match="matches frames in 2 folders"):
        frames_from_glob(tmp_path / "train" / "*" / "*.png")
    with pytest.raises(VideoError, match="matches no frames"):
        frames_from_glob(tmp_path / "train" / "*.jpg")


def test_folders_of_frame_folders_are_gathered_like_videos(tmp_path):
    root = tmp_path / "fullFrame-210x260px"
    for split, name in (("train", "a-1"), ("train", "a.2"), ("dev", "b-7")):
        frame_folder(root / split / name, n=2)
    planned = plan_outputs([root], tmp_path / "poses", ".pose")
    assert [(v.relative_to(root).as_posix(), t.relative_to(tmp_path).as_posix()) for v, t in planned] == [
        ("dev/b-7", "poses/dev/b-7.pose"),
        ("train/a-1", "poses/train/a-1.pose"),
        ("train/a.2", "poses/train/a.2.pose"),  # a dot in the name is no suffix
    ]
    assert plan_outputs([root / "dev" / "b-7"], tmp_path / "p", ".pose")[0][1] == tmp_path / "p" / "b-7.pose"
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match="or folders of frames"):
        plan_outputs([tmp_path / "nothing"], tmp_path / "p", ".pose")
