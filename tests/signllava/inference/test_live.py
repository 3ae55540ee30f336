"""``signllava live``: a file paced in real time, a UDP stream on the loopback interface, the same
poses and segments as offline translation, Ctrl-C mid-segment, and sources that fail."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pose.config import HolisticConfig
from pose.errors import InputError
from signllava.inference.live import LiveConfig, LivePipeline
from signllava.inference.live_source import open_reader, parse_source
from signllava.inference.segment import SegmentConfig
from signllava.inference.translator import Translator
from tests.conftest import ROOT, free_port, realdata, write_video

CLIP = ("pose_pairs", "what_is_your_name.mp4")  # a real signer, 320x240, 25 fps, 4.28 s, ending in a pause


def frames_of(path: Path) -> list[np.ndarray]:
    from pose.video import VideoStream

    return list(VideoStream(path).frames())


def write_frames(frames: list[np.ndarray], path: Path, fps: int = 25) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for rgb in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def twice(tmp_path_factory) -> Path:
    """The real clip signed twice in a row (8.6 s): a pause at the join, where a segment closes."""
    frames = frames_of(realdata(*CLIP))
    return write_frames(frames + frames, tmp_path_factory.mktemp("live") / "twice.mp4")


@pytest.fixture(scope="module")
def translator(checkpoint, tmp_path_factory) -> Translator:
    # one MediaPipe graph in this process, as live runs it; segments of at most 5 s, so the 8.6-s video has two
    # offline too; no early close in a long pause, so that offline and live cut alike
    config = SegmentConfig(max_seconds=5, close_after=math.inf)
    translator = Translator.load(checkpoint, "cpu", pose_workers=1, segments=config, half_weights=False)
    translator.cache = tmp_path_factory.mktemp("pose-cache")
    return translator


def run(translator, source, **config):
    cues, frames = [], {}
    pipeline = LivePipeline(
        translator,
        source,
        LiveConfig(num_beams=1, max_new_tokens=4, **config),
        on_cue=cues.append,
        on_frame=lambda rgb, d, c, slot: frames.setdefault(slot, (d, c)),
    )
    report = pipeline.start().wait(120)
    assert report is not None, "the pipeline did not finish"
    return report, cues, frames


def test_a_file_as_fast_as_it_goes_gives_offline_poses_segments_and_text(translator, twice):
    """Nothing dropped: every frame's landmarks equal offline extraction's with one graph (bit for bit:
    the same clock steps), the segments are segment()'s and the text translate()'s."""
    from pose.holistic import extract_pose

    report, cues, frames = run(translator, str(twice))
    assert report.error is None and report.dropped == 0 and report.frames == 214 == len(frames)
    offline_pose = extract_pose(twice, translator.holistic)
    data, conf = np.asarray(offline_pose.body.data.data[:, 0]), np.asarray(offline_pose.body.confidence[:, 0])
    assert all(np.array_equal(frames[t][0], data[t]) and np.array_equal(frames[t][1], conf[t]) for t in range(214))
    offline = translator.translate(twice, num_beams=1, max_new_tokens=4)
    assert len(offline) >= 2 and any(4.0 < s.end < 4.6 for s in offline)  # a cut at the join
    live = [c.segment for c in cues]
    assert [(s.start, s.end, s.text, s.hands_found) for s in live] == [
        (s.start, s.end, s.text, s.hands_found) for s in offline
    ]
    assert [c.number for c in cues] == list(range(1, len(offline) + 1)) and all(c.latency > 0 for c in cues)


def test_a_file_paced_in_real_time(translator, tmp_path):
    video = write_video(tmp_path / "square.mp4", frames=50, fps=25, size=(96, 64))  # 2 s, nobody in it
    started = time.monotonic()
    report, cues, _ = run(translator, str(video), realtime=True)
    assert time.monotonic() - started >= 2.0  # played at its own pace
    assert report.error is None and report.frames == 50 and 0 <= report.dropped < 50
    assert [(c.segment.start, c.segment.end) for c in cues] == [(0.0, 2.0)]
    assert cues[0].segment.hands_found == 0.0
    assert 0 < cues[0].latency < 60 and "latency median" in report.summary()


def publish_udp(frames: list[np.ndarray], port: int, fps: int = 25, delay: float = 0.5) -> threading.Thread:
    """Send the frames as an MPEG-TS stream to 127.0.0.1:port at their own pace, then stop sending."""
    import av

    def send() -> None:
        time.sleep(delay)
        with av.open(f"udp://127.0.0.1:{port}?pkt_size=1316", "w", format="mpegts") as out:
            options = {"tune": "zerolatency", "preset": "ultrafast", "g": str(fps)}
            stream = out.add_stream("libx264", rate=fps, options=options)
            stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
            start = time.monotonic()
            for i, rgb in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = i
                for packet in stream.encode(frame):
                    out.mux(packet)
                time.sleep(max(0.0, start + (i + 1) / fps - time.monotonic()))
            for packet in stream.encode():
                out.mux(packet)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_udp_stream_on_the_loopback_that_stops_in_the_middle(checkpoint, twice, tmp_path, monkeypatch, capsys):
    """The test publishes an MPEG-TS stream over UDP; live reads it (what comes while the model loads is
    read and let go: the clock starts when the pipeline is ready), writes each cue to the file as it
    comes, and when the stream goes silent says so in one line and exits 1, every cue kept."""
    from signllava.cli import main

    frames = frames_of(twice)
    port = free_port()
    publisher = publish_udp(frames, port)
    out = tmp_path / "live.jsonl"
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cache"))
    url = f"udp://127.0.0.1:{port}"
    args = ["live", url, "--checkpoint", str(checkpoint), "--beam", "1", "--timeout", "3"]
    args += ["-f", "jsonl", "-o", str(out)]
    monkeypatch.setattr(sys, "argv", ["signllava", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    publisher.join(10)
    captured = capsys.readouterr()
    assert exit_.value.code == 1, captured.err
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {url}: no frame for 3 s (--timeout): the stream stopped"]
    assert "Traceback" not in captured.err
    cues = [json.loads(line) for line in out.read_text().splitlines()]
    assert cues and cues[0]["start"] == 0.0 and all(c["end"] > c["start"] for c in cues)
    summary = next(line for line in captured.err.splitlines() if line.startswith("live: "))
    assert " dropped (" in summary and "latency median" in summary
    seconds = float(summary.split(" frames (")[1].split(" s of video")[0])
    assert 2 < seconds < 8.6 and cues[-1]["end"] == pytest.approx(seconds, abs=0.05)  # up to where it stopped
    assert all("latency" in c for c in cues)
    assert captured.out.count("] ") == len(cues)  # the same cues as timed lines on stdout


def test_ctrl_c_mid_segment_keeps_every_finished_cue(checkpoint, twice, tmp_path):
    """SIGINT a second after the first cue, mid-way through the video: the cues before it stay in the
    file, the segment in progress is translated and appended too (ending where the source stopped, not
    at the video's end), exit 0, no traceback."""
    out = tmp_path / "live.srt"
    command = [sys.executable, "-m", "signllava", "live", str(twice), "--realtime", "--checkpoint", str(checkpoint)]
    command += ["--beam", "1", "-f", "srt", "-o", str(out)]
    env = os.environ | {"PYTHONPATH": str(ROOT), "SIGNLLAVA_CACHE": str(tmp_path / "cache")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (out.is_file() and out.read_text().strip()) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the first cue
    finished = out.read_text()
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "stopping: translating the segment in progress" in stderr
    text = out.read_text()
    cues = text.split("\n\n")
    assert text.startswith(finished) and len(cues) > len(finished.split("\n\n"))  # every finished cue, then more
    times = [cue.splitlines()[1].split(" --> ") for cue in cues]
    assert times[0][0] == "00:00:00,000" and all(a[1] == b[0] for a, b in zip(times, times[1:], strict=False))
    assert times[-1][1] < "00:00:08,560"  # the segment in progress, cut where the source stopped
    assert [cue.splitlines()[0] for cue in cues] == [str(i) for i in range(1, len(cues) + 1)]
    assert stdout.count("] ") == len(cues)


def test_sources_are_named_as_cameras_streams_or_files(tmp_path):
    if sys.platform.startswith("linux"):
        with pytest.raises(InputError, match=r"^7: no such camera \(/dev/video7 does not exist\)$"):
            parse_source("7")
        with pytest.raises(InputError, match="no such camera"):
            parse_source("/dev/video9")
    assert parse_source("rtsp://host/cam").kind == "stream" and parse_source("udp://127.0.0.1:5000").live
    with pytest.raises(InputError, match="unknown stream scheme ftp://"):
        parse_source("ftp://host/v.mp4")
    with pytest.raises(InputError, match="file not found"):
        parse_source(str(tmp_path / "gone.mp4"))
    with pytest.raises(InputError, match="a .pose file: live reads video"):
        (tmp_path / "a.pose").write_bytes(b"x")
        parse_source(str(tmp_path / "a.pose"))
    video = write_video(tmp_path / "v.mp4", frames=5)
    reader = open_reader(str(video), 1.0)
    assert not reader.source.live and reader.fps == 25
    reader.close()


def test_a_stream_that_never_starts_times_out_in_one_line():
    port = free_port()
    started = time.monotonic()
    with pytest.raises(InputError) as err:
        open_reader(f"udp://127.0.0.1:{port}", 0.5)
    assert str(err.value) == (
        f"udp://127.0.0.1:{port}: nothing arrived within 0.5 s (--timeout): the stream never started"
    )
    assert time.monotonic() - started < 5


def test_show_is_refused_in_one_line_without_a_display(monkeypatch):
    from signllava.inference.live_view import LiveView, display_problem

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        assert display_problem() == "no display here (DISPLAY is not set): run without --show, or where a screen is"
    # the picture the window would show: the frame with its skeleton and the latest captions
    view = LiveView(HolisticConfig(), width=160)
    assert view.picture() is None
    rgb = np.zeros((240, 320, 3), np.uint8)
    data, conf = np.zeros((576, 3), np.float32), np.zeros(576, np.float32)
    data[11:13, :2], conf[11:13] = [[100, 100], [200, 100]], 1  # the shoulders, joined
    view.frame(rgb, data, conf, 0)
    for text in ("one", "two", "three"):
        view.caption(text)
    picture = view.picture()
    assert picture.shape == (120, 160, 3) and picture[50, 75].any()  # half size; the shoulder line drawn
    assert view._captions == ["two", "three"]


def test_dropped_frames_take_the_nearest_frame_processed():
    """Slots whose frame was dropped get the nearer of the frames processed before and after them (as
    nearest-frame resampling), and those dropped at the very end the last one; the segment covers all."""
    import queue
    from types import SimpleNamespace

    from signllava.inference.live import _Slots

    translator = SimpleNamespace(holistic=HolisticConfig(), segments=SegmentConfig(), reads_video=False)
    pipeline = SimpleNamespace(translator=translator, fps=25.0, _segments=queue.Queue())
    slots = _Slots(pipeline, 320, 240)
    frame = [(np.full((576, 3), i, np.float32), np.full(576, 1.0, np.float32)) for i in range(8)]
    slots.fill(0, 1, None, *frame[0])
    slots.fill(4, 5, None, *frame[4])  # slots 1-3 dropped
    slots.fill(5, 6, None, *frame[5])
    slots.finish(8)  # slots 6 and 7 dropped at the end
    first, last, pose, _, _ = pipeline._segments.get_nowait()
    assert (first, last) == (0, 8) and pipeline._segments.empty()
    assert pose.body.data.data[:, 0, 0, 0].tolist() == [0, 0, 0, 4, 4, 5, 5, 5]


def test_show_pumps_the_window_and_closing_it_stops_like_ctrl_c(translator, twice, monkeypatch, capsys):
    """--show's window (OpenCV, stubbed here: no display) is fed the drawn frames from the main thread;
    pressing q stops the run as Ctrl-C does: the segment so far is translated, exit 0."""
    import cv2

    from signllava.inference.live_console import run_live

    shown = []
    monkeypatch.setattr(cv2, "namedWindow", lambda *args: None)
    monkeypatch.setattr(cv2, "imshow", lambda name, picture: shown.append(picture.shape))
    monkeypatch.setattr(cv2, "waitKey", lambda ms: ord("q") if len(shown) >= 5 else -1)
    monkeypatch.setattr(cv2, "getWindowProperty", lambda *args: 1.0)
    monkeypatch.setattr(cv2, "destroyWindow", lambda *args: None)
    reader = open_reader(str(twice), 5.0)
    code = run_live(translator, reader, LiveConfig(realtime=True, num_beams=1, max_new_tokens=4), show=True)
    out, err = capsys.readouterr()
    assert code == 0 and len(shown) >= 5 and shown[0] == (240, 320, 3)
    frames = int(err.split("live: ")[1].split(" frames")[0])
    assert 0 < frames < 214 and out.count("] ") >= 1  # stopped early, what was read translated


def test_a_model_that_reads_video_gets_each_segments_frames(tmp_path):
    """Encoder streams that read video (DINO, MAE) get the segment's RGB frames, one per pose frame,
    through the code translate uses (Translator.clip_features, StreamEncoder.features)."""
    from types import SimpleNamespace

    import torch

    from signllava.inference.encoders import StreamEncoder
    from signllava.inference.hands import HandsCheck
    from signllava.inference.timings import Timings

    seen = []

    class Recorder(torch.nn.Linear):
        def features(self, pose, video):
            seen.append((len(pose.body.data), video.shape))
            return np.zeros((len(pose.body.data), 6), np.float32)

    encoder = StreamEncoder("mae", Path("mae/last"), Recorder(1, 1), "mae", "0" * 16)
    translator = Translator(None, segments=SegmentConfig(max_seconds=1.2), pose_workers=1)
    translator.model = SimpleNamespace(config=SimpleNamespace(streams={"mae": None}))
    translator.encoders, translator.views, translator.hands = {"mae": encoder}, {}, HandsCheck()
    translator.translate_clip = lambda streams, *args: (f"{len(streams['mae'])} frames", None)
    translator.timings = Timings()
    video = write_video(tmp_path / "v.mp4", frames=50, fps=25, size=(96, 64))
    report, cues, _ = run(translator, str(video))
    assert [c.segment.text for c in cues] == ["25 frames", "25 frames"]  # a forced cut: no hands, no pause
    assert seen[1:] == [(25, (25, 64, 96, 3)), (25, (25, 64, 96, 3))]  # (after the warm-up's blank frames)
