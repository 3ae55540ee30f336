"""``import-keypoints`` speed against its floor: parsing the JSON alone.

The original's YouTube-ASL pipeline wrote one keypoint JSON per clip; a corpus has hundreds of thousands.
This copies one clip ``--clips`` times (the real ``ZZseM50QsOg.004837-004904.json`` of ``../shared/realdata``
where present, else a made-up clip of the same shape: 68 frames of 33 + 478 + 21 + 21 points) and times, in
one run, best of ``--rounds`` each:
  1. json:   ``json.loads`` of every file (the floor: no importer can skip reading the JSON);
  2. read:   ``pose.keypoints_json.read_keypoints`` (parse, checks, arrays, the Pose);
  3. import: ``pose.keypoints_batch.import_keypoints`` (all of it, each .pose written atomically under its lock).
It prints ms per clip and the ratios against the floor.

    python benchmarks/import_keypoints.py [--clips 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from pose.keypoints_batch import import_keypoints
from pose.keypoints_json import read_keypoints

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "field" / "youtube_asl"
REAL_CLIP = REAL / "ZZseM50QsOg.004837-004904.json"
PARTS = {"pose_landmarks": 33, "face_landmarks": 478, "left_hand_landmarks": 21, "right_hand_landmarks": 21}


def made_up_clip(frames: int = 68) -> str:
    """A clip of the real one's shape: pixel coordinates, body visibility, a left hand found in half the frames."""
    rng = random.Random(0)

    def points(n: int, visible: bool) -> list[list[float]]:
        return [
            [rng.uniform(50, 600), rng.uniform(50, 800), rng.uniform(-1, 1), 1.0 if visible else 0.0] for _ in range(n)
        ]

    joints = {
        str(f): {
            part: [] if part == "left_hand_landmarks" and f % 2 else points(n, part == "pose_landmarks")
            for part, n in PARTS.items()
        }
        for f in range(frames)
    }
    return json.dumps({"joints": joints})


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    text = REAL_CLIP.read_text() if REAL_CLIP.is_file() else made_up_clip()
    source = "the real clip" if REAL_CLIP.is_file() else "a made-up clip of the real one's shape"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "keypoints_25fps"
        folder.mkdir()
        files = []
        for i in range(args.clips):
            start = 1000 + i * 100
            files.append(folder / f"vid{i % 20:02d}.{start:06d}-{start + 67:06d}.json")
            files[-1].write_text(text)
        out = Path(tmp) / "poses"

        def parse():
            for f in files:
                json.loads(f.read_text())

        def read():
            for f in files:
                read_keypoints(f, 25.0)

        def full():
            shutil.rmtree(out, ignore_errors=True)
            report = import_keypoints([folder], out, progress=False)
            assert len(report.done) == args.clips and not report.failed

        floor = best(parse, args.rounds)
        timed = {"json": floor, "read": best(read, args.rounds), "import": best(full, args.rounds)}
    print(f"{args.clips} copies of {source} ({len(text) / 1e6:.2f} MB of JSON each), best of {args.rounds}")
    for name, seconds in timed.items():
        print(f"  {name:7s} {1000 * seconds / args.clips:7.1f} ms/clip  {seconds / floor:5.2f}x the JSON parse")


if __name__ == "__main__":
    main()
