"""Shared fixtures: generated videos (always available) and the real data (skipped if absent)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# submitit configures logging (dictConfig) when first imported, which closes every existing handler. If
# mediapipe's absl handler was made in an earlier test, it holds that test's captured stderr and closes
# it, and pytest's capture then fails ("I/O operation on closed file") depending on test order.
import submitit  # noqa: F401

# no model hub is reachable here (nor in CI): repo ids resolve from the Hugging Face cache only, never waiting
# on the network (set before huggingface_hub is imported, which reads it once)
os.environ["HF_HUB_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"


class Payload:
    """What a hostile pickle does: name a callable for the loader to call (here a shell command that only
    creates ``marker``, so a test can tell whether it ran)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def write_video(
    path: Path, frames: int = 20, fps: float = 25, size: tuple[int, int] = (96, 64), codec: str = "libx264"
) -> Path:
    """A small video of a moving square (no person in it)."""
    import av

    w, h = size
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=int(fps) if float(fps).is_integer() else fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(frames):
            img = np.full((h, w, 3), 40, np.uint8)
            x = (i * 3) % (w - 16)
            img[20:36, x : x + 16] = (220, 180, 30)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        container.mux(stream.encode())
    return path


@pytest.fixture
def make_video(tmp_path):
    def make(name: str = "clip.mp4", **kwargs) -> Path:
        return write_video(tmp_path / name, **kwargs)

    return make


def realdata(*parts: str) -> Path:
    """A path under ../shared/realdata, or skip the test with the reason."""
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real test data not present: {path} (it lives in ../shared/realdata beside the checkout)")
    return path


def free_port() -> int:
    """A TCP port nobody listens on now (a DDP test's rendezvous)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def become_rank(rank: int, world: int, port: int) -> None:
    """Set the environment torchrun would give rank ``rank`` of ``world`` (in a spawned test process)."""
    import os

    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank)
    )
