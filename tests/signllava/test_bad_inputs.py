"""Every command against a table of bad inputs: exit code 2, one ``error: ...`` line naming the file or
option, no traceback, and nothing written (no output, no half-written file).

The commands run in this process through the console script's ``main`` (a subprocess each would
cost the imports again for every row); ``tests/signllava/test_cli.py`` runs the real console
script for a few of them."""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import warnings
from pathlib import Path

import pytest
import torch

from pose.io import write_pose
from signllava.cli import main
from tests.conftest import free_port, write_video
from tests.pose.test_features import other_skeleton_pose
from tests.signllava.cluster.test_profiles import fake_slurm

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "signllava" / "default_model"


@pytest.fixture(scope="module")
def bad(tmp_path_factory, synth) -> Path:
    """A folder of bad inputs of every kind the tool reads, plus a few good ones to pair them with."""
    d = tmp_path_factory.mktemp("bad")
    good_pose = next((synth / "poses").rglob("*.pose"))
    shutil.copy(good_pose, d / "good.pose")
    write_video(d / "good.mp4", frames=10)
    rng = random.Random(0)
    junk = bytes(rng.randrange(256) for _ in range(4000))
    for suffix in ("mp4", "pose", "h5", "csv"):
        (d / f"empty.{suffix}").write_bytes(b"")
        (d / f"junk.{suffix}").write_bytes(junk)
    (d / "text.mp4").write_text("not a video\n")
    (d / "trunc.mp4").write_bytes((d / "good.mp4").read_bytes()[:600])
    (d / "trunc.pose").write_bytes((d / "good.pose").read_bytes()[:900])
    (d / "emptydir").mkdir()
    (d / "novideo").mkdir()
    (d / "novideo" / "notes.txt").write_text("no video here\n")
    (d / "run" / "last").mkdir(parents=True)
    for f in DEFAULT_MODEL.iterdir():
        shutil.copy(f, d / "run" / "last" / f.name)
    # metadata in odd encodings and shapes
    header = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n"
    (d / "utf16.csv").write_bytes((header + "v\tv\t1\ts\t0\t1\thello\n").encode("utf-16"))
    (d / "columns.csv").write_text("a,b,c\n1,2,3\n")
    (d / "short_train.csv").write_text(header + "v\tv\t1\ts\t0\t1\thello\n")
    (d / "header_only.csv").write_text(header)
    (d / "latin.tsv").write_bytes((header + "v\tv\t1\ts\t0\t1\tcaf\xe9 \x81\x8d\n").encode("latin-1"))
    # manifests: empty, naming no video, naming missing files
    (d / "empty.txt").write_text("")
    (d / "notvideos.txt").write_text("a.pose\nb.txt\n")
    (d / "nocolumn.tsv").write_text("name\tother\nx.mp4\t1\n")
    # YAML: syntax, type, unknown key, a list where a mapping belongs
    (d / "syntax.yaml").write_text("a: [1, 2\n")
    (d / "type.yaml").write_text("optim:\n  lr: fast\n")
    (d / "unknown.yaml").write_text("nosuchkey: 1\n")
    (d / "list.yaml").write_text("- 1\n- 2\n")
    (d / "profile_type.yaml").write_text("defaults:\n  time_min: soon\n")
    (d / "profile_unknown.yaml").write_text("defaults:\n  partitoin: gpu\n")
    _field_datasets(d)
    _captions(d)
    (d / "bad.json").write_text("{bad")
    (d / "list.json").write_text("[1, 2]")
    # the original's annotation JSON whose keywords are one string, not a list of them
    keywords = {"v": {"clip_order": ["c"], "c": {"translation": "hello", "keywords": "hello"}}}
    (d / "annotation.train.json").write_text(json.dumps(keywords))
    _other_tools(d)
    _damaged_weights(d)
    _found_by_fuzzing(d)
    _keypoint_files(d)
    (d / "taken").write_text("a file where an output folder is wanted\n")
    # input quoted in an error: a 400 KB JSON file read as metadata, a manifest row of 200 KB
    (d / "big.json").write_text(json.dumps({f"video{i}": {"clip": "hello world " * 20} for i in range(2000)}))
    (d / "longrow.txt").write_text("clip" * 50_000 + ".txt\n")
    # a cluster whose MaxArraySize is SLURM's default (1001); its sbatch queues nothing
    fake_slurm(d / "fakeslurm")
    (d / "bigarray.yaml").write_text("defaults: {cluster: slurm, partition: local, array_size: 5000}\n")
    return d


def _field_datasets(d: Path) -> None:
    """PHOENIX-2014T and CSL-Daily files gone wrong: a corpus file cut inside its header, frame folders with a
    corrupt or a missing frame, an annotation pickle that asks to run code, a split file whose sentences have
    no frame folder among the videos given."""
    import pickle

    import cv2
    import numpy as np

    (d / "phoenix").mkdir()
    (d / "phoenix" / "PHOENIX-2014-T.dev.corpus.csv").write_text("name|video|sta")
    for name, broken in (("corrupt_frame", "images0002.png"), ("missing_frame", None)):
        folder = d / name
        folder.mkdir()
        for i in (1, 2, 3):
            if name == "missing_frame" and i == 2:
                continue
            cv2.imwrite(str(folder / f"images{i:04d}.png"), np.full((26, 21, 3), 50, np.uint8))
        if broken:
            (folder / broken).write_bytes(b"\x89PNG truncated")
    (d / "csl").mkdir()
    (d / "csl" / "video_map.txt").write_text("index|name|length|gloss|char|word|postag\n0|S1_P0_T0|9|好|好|好|a\n")
    (d / "csl" / "split_1.txt").write_text("name|split\nS1_P0_T0|train\n")
    (d / "csl" / "frames" / "S9_P9_T9").mkdir(parents=True)  # frames of another sentence only
    cv2.imwrite(str(d / "csl" / "frames" / "S9_P9_T9" / "000000.jpg"), np.zeros((8, 8, 3), np.uint8))

    class Payload:
        def __reduce__(self):
            return (print, ("a pickle ran code",))

    (d / "csl" / "csl2020ct_v2.pkl").write_bytes(pickle.dumps({"info": [Payload()]}))


def _captions(d: Path) -> None:
    """Captioned videos gone wrong: no cue whose timing line reads, a caption file in Latin-1, a caption file
    whose video is not among the videos given, a caption table without its text column."""
    (d / "captions").mkdir()
    (d / "captions" / "broken_timing.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:0X:02.000\nhello\n")
    (d / "captions" / "latin1.srt").write_bytes("1\n00:00:00,000 --> 00:00:01,000\ncaf\xe9\n".encode("latin-1"))
    (d / "captions" / "lone.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:00.300\nhello\n")
    write_video(d / "captions" / "videos" / "another.mp4", frames=5)
    (d / "captions" / "table.csv").write_text("video,start,end\nv,0,1\n")


def _other_tools(d: Path) -> None:
    """.pose files of other skeletons (OpenPose BODY_25, AlphaPose, a reduced Holistic), and folders of them
    as a dataset's poses (the clip of short_train.csv is ``s``); a folder of good poses beside them."""
    for tool in ("openpose", "alphapose", "reduced"):
        write_pose(other_skeleton_pose(tool), d / f"{tool}.pose")
    for name in ("s", "t"):
        write_pose(other_skeleton_pose("openpose"), d / "openposes" / f"{name}.pose")
    (d / "goodposes").mkdir()
    shutil.copy(d / "good.pose", d / "goodposes" / "s.pose")


def _damaged_weights(d: Path) -> None:
    """Checkpoints whose weight file is cut short, empty, or another file renamed to it; an LLM folder and a
    pretraining checkpoint with an empty one."""
    from pose.config_loader import load_config, save_config
    from pretrain.build import PretrainConfig

    weights = (DEFAULT_MODEL / "model.safetensors").read_bytes()
    for name, content in (("trunc_ckpt", weights[:100_000]), ("empty_ckpt", b""), ("renamed_ckpt", None)):
        (d / name).mkdir()
        for f in DEFAULT_MODEL.iterdir():
            if f.name != "model.safetensors":
                shutil.copy(f, d / name / f.name)
        target = d / name / "model.safetensors"
        target.write_bytes(content) if content is not None else shutil.copy(DEFAULT_MODEL / "config.yaml", target)
    (d / "damaged_llm").mkdir()
    (d / "damaged_llm" / "config.json").write_text('{"model_type": "llama"}\n')
    (d / "damaged_llm" / "model.safetensors").write_bytes(b"")
    (d / "damaged_encoder").mkdir()
    save_config(load_config(PretrainConfig, None, ["objective=sign2vec"]), d / "damaged_encoder" / "config.yaml")
    (d / "damaged_encoder" / "model.safetensors").write_bytes(weights[:1000])


MANIFEST = "split\tVIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\tmedia"


def _found_by_fuzzing(d: Path) -> None:
    """Inputs like the ones ``benchmarks/fuzz.py`` (and ``tests/fuzz``) found each reader failing on: manifests
    damaged or edited, a table field past csv's limit, damaged pickles, HDF5 shards and profiles, checkpoint and
    export metadata, .pose files whose numbers are damaged, frames whose headers lie."""
    import cv2
    import h5py
    import numpy as np

    from tests.pose.test_features import synthetic_pose

    row = "train\tv\tv\t1\ts1\t0.000\t1.000\thello\tv.mp4"
    manifests = {
        "notutf8": (MANIFEST + "\n" + row + "\n").encode() + b"caf\xa9\n",
        "order": (MANIFEST + "\tDATASET\tORDER\n" + row + "\tphoenix14t\tfirst\n").encode(),
        "dataset": (MANIFEST + "\tDATASET\tORDER\n" + row + "\tph\t0\n").encode(),
        "short": (MANIFEST + "\n" + row.rsplit("\t", 2)[0] + "\n").encode(),
        "interval": (MANIFEST + "\n" + row.replace("0.000\t1.000", "nan\t1.000") + "\n").encode(),
        "noname": (MANIFEST + "\n" + row.replace("\ts1\t", "\t\t") + "\n").encode(),
    }
    for name, data in manifests.items():
        (d / f"{name}_manifest.tsv").write_bytes(data)
    header = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n"
    (d / "bigfield_train.csv").write_text(header + 'v\tv\t1\ts\t0\t1\t"' + "x" * 200_000 + '"\n')
    (d / "cslpkl").mkdir()
    (d / "cslpkl" / "split_1.txt").write_text("name|split\nS1_P0_T0|train\n")
    (d / "cslpkl" / "csl2020ct_v2.pkl").write_bytes(b"\x80\x05\x96" + (2**64 - 1).to_bytes(8, "little") + b".")
    with h5py.File(d / "dangling.h5", "w") as f:
        f.create_group("vid00").create_dataset("clip_1", data=np.zeros((3, 4), np.float16))
        f["vid00"]["clip_2"] = h5py.SoftLink("/nowhere")
    with h5py.File(d / "damaged.h5", "w") as f:
        f.create_group("vid00").create_dataset("clip_1", data=np.zeros((3, 4), np.float16))
    (d / "infidx").mkdir()
    shutil.copy(d / "dangling.h5", d / "infidx" / "pose.train.0.h5")
    (d / "infidx" / "pose.train.json").write_text('{"vid00": Infinity}')
    with h5py.File(d / "bytesname.h5", "w") as f:
        f.create_group(b"\xff\xfe").create_dataset("clip_1", data=np.zeros((3, 4), np.float16))
    (d / "typed_encoder").mkdir()
    (d / "typed_encoder" / "config.yaml").write_text("objective: sign2vec\nmodel: {size: tiny, max_frames: many}\n")
    shutil.copy(DEFAULT_MODEL / "model.safetensors", d / "typed_encoder" / "model.safetensors")
    shard = (d / "damaged.h5").read_bytes()
    (d / "damaged.h5").write_bytes(shard.replace(b"SNOD", b"SNOX"))  # a group's symbol table node
    (d / "profile_list_section.yaml").write_text("defaults: [{cluster: slurm}]\n")
    (d / "profile_odd_stages.yaml").write_text("stages:\n  1: {}\n  bogus: {}\n")
    (d / "profile_fraction.yaml").write_text("defaults: {cluster: slurm, partition: local, nodes: 1.5}\n")
    meta = json.loads((DEFAULT_MODEL / "meta.json").read_text())
    for name, text in (
        ("meta_notutf8", b'{"llm": "caf\xa9"}'),
        ("meta_streams_list", json.dumps(meta | {"streams": ["pose"]})),
    ):
        shutil.copytree(DEFAULT_MODEL, d / f"{name}_ckpt")
        (d / f"{name}_ckpt" / "meta.json").write_bytes(text if isinstance(text, bytes) else text.encode())
    (d / "export_nometa").mkdir()
    (d / "export_nometa" / "config.json").write_text(
        '{"format": "signllava-export-1", "kind": "signllava", "config": {}}'
    )
    shutil.copy(DEFAULT_MODEL / "model.safetensors", d / "export_nometa" / "model.safetensors")
    for name, damage in (("fpsnan", ("fps", float("nan"))), ("nan", ("value", np.nan)), ("far", ("value", 3e38))):
        pose = synthetic_pose(frames=3)
        if damage[0] == "fps":
            pose.body.fps = damage[1]
        else:
            pose.body.data.data[1, 0, 11, 0] = damage[1]
        write_pose(pose, d / f"{name}.pose")
    for name, suffix in (("png_chunk", ".png"), ("jpeg_cut", ".jpg"), ("empty_frame", ".png")):
        (d / name).mkdir()
        for i in (1, 2, 3):
            cv2.imwrite(str(d / name / f"images{i:04d}{suffix}"), np.full((26, 21, 3), 50, np.uint8))
        frame = d / name / f"images000{1 if name == 'empty_frame' else 2}{suffix}"  # the first: probed
        data = frame.read_bytes()
        damaged = {"png_chunk": data[:33] + (2_200_000_000).to_bytes(4, "big") + data[37:], "jpeg_cut": data[:-10]}
        frame.write_bytes(damaged.get(name, b""))


def _keypoint_files(d: Path) -> None:
    """The original SignLLaVA's keypoint JSON gone wrong: a frame without a part, a hand of 20 points; and a good
    one whose name and folders say no frame rate."""
    from tests.fuzz.seeds import keypoint_json

    good = json.loads(keypoint_json(1))
    (d / "kp_good.json").write_text(json.dumps(good))
    nopart = json.loads(keypoint_json(1))
    del nopart["joints"]["0"]["face_landmarks"]
    (d / "kp_nopart.json").write_text(json.dumps(nopart))
    count = json.loads(keypoint_json(1))
    count["joints"]["0"]["left_hand_landmarks"].pop()
    (d / "kp_count.json").write_text(json.dumps(count))


NO_CUDA = not torch.cuda.is_available()
P, V = "good.pose", "good.mp4"
CASES = {
    # command line itself
    "no-such-option": ["translate", P, "--bogus"],
    "missing-argument": ["translate"],
    "not-an-int": ["translate", P, "--beam", "five"],
    "unknown-command": ["transalte", P],
    # translate / ask: videos and .pose files, options
    "translate-empty-video": ["translate", "empty.mp4"],
    "translate-junk-video": ["translate", "junk.mp4"],
    "translate-truncated-video": ["translate", "trunc.mp4"],
    "translate-text-as-video": ["translate", "text.mp4"],
    "translate-missing-video": ["translate", "missing.mp4"],
    "translate-empty-pose": ["translate", "empty.pose"],
    "translate-junk-pose": ["translate", "junk.pose"],
    "translate-truncated-pose": ["translate", "trunc.pose"],
    "translate-empty-folder": ["translate", "emptydir"],
    "translate-beam-0": ["translate", P, "--beam", "0"],
    "translate-beam-negative": ["translate", P, "--beam", "-3"],
    "translate-format": ["translate", P, "-f", "xml"],
    "translate-device-junk": ["translate", P, "--device", "gpu9"],
    "translate-checkpoint-empty-folder": ["translate", P, "--checkpoint", "emptydir"],
    "translate-checkpoint-run-folder": ["translate", P, "--checkpoint", "run"],
    "translate-checkpoint-missing": ["translate", P, "--checkpoint", "nowhere"],
    "translate-context-missing-file": ["translate", P, "--context", "missing_context.txt"],
    "translate-checkpoint-repo-not-cached": ["translate", P, "--checkpoint", "someone/not-cached-anywhere"],
    "translate-checkpoint-repo-revision-not-cached": ["translate", P, "--checkpoint", "someone/not-cached@v2"],
    "translate-checkpoint-bad-repo-id": ["translate", P, "--checkpoint", "some--one/model"],
    # live: cameras, streams and files that cannot be read, options
    "live-camera-missing": ["live", "7"],
    "live-camera-device-missing": ["live", "/dev/video9"],
    "live-stream-never-starts": ["live", f"udp://127.0.0.1:{free_port()}", "--timeout", "0.5"],
    "live-stream-scheme": ["live", "ftp://host/clip.mp4"],
    "live-missing-video": ["live", "missing.mp4"],
    "live-empty-video": ["live", "empty.mp4"],
    "live-junk-video": ["live", "junk.mp4"],
    "live-text-as-video": ["live", "text.mp4"],
    "live-pose-file": ["live", P],
    "live-folder": ["live", "emptydir"],
    "live-format": ["live", V, "-f", "json"],
    "live-timeout-0": ["live", V, "--timeout", "0"],
    "live-beam-0": ["live", V, "--beam", "0"],
    "live-output-is-a-folder": ["live", V, "-o", "emptydir"],
    "live-checkpoint-missing": ["live", V, "--checkpoint", "nowhere"],
    "ask-empty-question": ["ask", P, ""],
    "ask-junk-pose": ["ask", "junk.pose", "Is the sign 'dog' present?"],
    "ask-missing-video": ["ask", "missing.mp4", "Is the sign 'dog' present?"],
    # visualize-pose
    "visualize-frames-0": ["visualize-pose", P, "--frames", "0", "-o", "z.png"],
    "visualize-frame-negative": ["visualize-pose", P, "--frame", "-1", "-o", "z.png"],
    "visualize-frame-past-end": ["visualize-pose", P, "--frame", "99999", "-o", "z.png"],
    "visualize-output-suffix": ["visualize-pose", P, "-o", "z.txt"],
    "visualize-junk-pose": ["visualize-pose", "junk.pose", "-o", "z.png"],
    "visualize-empty-pose": ["visualize-pose", "empty.pose", "-o", "z.png"],
    "visualize-truncated-pose": ["visualize-pose", "trunc.pose", "-o", "z.png"],
    "visualize-missing-pose": ["visualize-pose", "missing.pose", "-o", "z.png"],
    "visualize-junk-video": ["visualize-pose", P, "--video", "junk.mp4", "-o", "z.png"],
    "visualize-missing-video": ["visualize-pose", P, "--video", "missing.mp4", "-o", "z.mp4"],
    # demo
    "demo-document-past-end": ["demo", "--document", "40", "-o", "d"],
    "demo-document-negative": ["demo", "--document", "-1", "-o", "d"],
    # extract-poses: inputs, manifests, configs, options
    "extract-empty-folder": ["extract-poses", "emptydir", "-o", "eo"],
    "extract-folder-without-videos": ["extract-poses", "novideo", "-o", "eo"],
    "extract-empty-manifest": ["extract-poses", "empty.txt", "-o", "eo"],
    "extract-manifest-of-non-videos": ["extract-poses", "notvideos.txt", "-o", "eo"],
    "extract-manifest-without-path-column": ["extract-poses", "nocolumn.tsv", "-o", "eo"],
    "extract-missing-input": ["extract-poses", "missing_folder/", "-o", "eo"],
    "extract-workers-negative": ["extract-poses", V, "-o", "eo", "--workers", "-1"],
    "extract-model-complexity": ["extract-poses", V, "-o", "eo", "--model-complexity", "5"],
    "extract-fps-0": ["extract-poses", V, "-o", "eo", "--fps", "0"],
    "extract-shard-past-end": ["extract-poses", V, "-o", "eo", "--shard", "3", "--num-shards", "2"],
    "extract-backend": ["extract-poses", V, "-o", "eo", "--backend", "ffmpeg9"],
    "extract-pose-backend": ["extract-poses", V, "-o", "eo", "--pose-backend", "openpose"],
    "extract-junk-task-bundle": [
        *("extract-poses", V, "-o", "eo", "--pose-backend", "tasks", "--set", "holistic.task_bundle=junk.mp4")
    ],
    "extract-missing-task-bundle": [
        *("extract-poses", V, "-o", "eo", "--pose-backend", "tasks", "--set", "holistic.task_bundle=none.task")
    ],
    "extract-config-syntax": ["extract-poses", V, "-o", "eo", "--config", "syntax.yaml"],
    "extract-config-type": ["extract-poses", V, "-o", "eo", "--config", "type.yaml"],
    "extract-config-unknown-key": ["extract-poses", V, "-o", "eo", "--config", "unknown.yaml"],
    "extract-config-list": ["extract-poses", V, "-o", "eo", "--config", "list.yaml"],
    "extract-config-missing": ["extract-poses", V, "-o", "eo", "--config", "missing.yaml"],
    "extract-set-type": ["extract-poses", V, "-o", "eo", "--set", "holistic.model_complexity=abc"],
    "extract-set-malformed": ["extract-poses", V, "-o", "eo", "--set", "workers"],
    # data check: metadata in odd encodings, shapes and places
    "check-utf16": ["data", "check", "utf16.csv", "-o", "dc/m.tsv"],
    "check-junk": ["data", "check", "junk.csv", "-o", "dc/m.tsv"],
    "check-empty": ["data", "check", "empty.csv", "-o", "dc/m.tsv"],
    "check-wrong-columns": ["data", "check", "columns.csv", "-o", "dc/m.tsv"],
    "check-missing": ["data", "check", "missing.csv", "-o", "dc/m.tsv"],
    "check-folder-as-metadata": ["data", "check", "emptydir", "-o", "dc/m.tsv"],
    "check-min-duration-negative": ["data", "check", "latin.tsv", "--min-duration", "-1", "-o", "dc/m.tsv"],
    "check-videos-empty-folder": ["data", "check", "latin.tsv", "--videos", "emptydir", "-o", "dc/m.tsv"],
    "check-videos-missing": ["data", "check", "latin.tsv", "--videos", "nowhere", "-o", "dc/m.tsv"],
    "check-overwrites-input": ["data", "check", "latin.tsv", "-o", "latin.tsv"],
    # the field's datasets: PHOENIX-2014T corpus files, frame folders, CSL-Daily's annotations
    "check-phoenix-corpus-cut-in-its-header": [
        "data",
        "check",
        "phoenix/PHOENIX-2014-T.dev.corpus.csv",
        "-o",
        "dc/m.tsv",
    ],
    "check-csl-pickle-asks-for-code": ["data", "check", "csl/csl2020ct_v2.pkl", "csl/split_1.txt", "-o", "dc/m.tsv"],
    "check-csl-split-names-absent-frame-folders": [
        *("data", "check", "csl/video_map.txt", "csl/split_1.txt", "--videos", "csl/frames", "-o", "dc/m.tsv")
    ],
    "check-unknown-dataset": ["data", "check", "latin.tsv", "--dataset", "phoenix", "-o", "dc/m.tsv"],
    "check-file-of-no-dataset": ["data", "check", "bad.json", "-o", "dc/m.tsv"],
    # captioned videos: WebVTT/SubRip files beside their videos, caption tables
    "check-captions-no-timing-line-reads": ["data", "check", "captions/broken_timing.vtt", "-o", "dc/m.tsv"],
    "check-captions-not-utf8": ["data", "check", "captions/latin1.srt", "-o", "dc/m.tsv"],
    "check-captions-without-their-video": [
        *("data", "check", "captions/lone.vtt", "--videos", "captions/videos", "-o", "dc/m.tsv")
    ],
    "check-caption-table-missing-a-column": ["data", "check", "captions/table.csv", "-o", "dc/m.tsv"],
    "list-extra-argument": ["data", "list", "phoenix"],
    "translate-frame-folder-corrupt-frame": ["translate", "corrupt_frame"],
    "translate-frame-folder-missing-frame": ["translate", "missing_frame"],
    "translate-frames-glob-matches-nothing": ["translate", "missing_frame/*.jpg"],
    "translate-frames-fps-0": ["translate", "missing_frame", "--frames-fps", "0"],
    "ask-frame-folder-corrupt-frame": ["ask", "corrupt_frame", "Is the video reversed?"],
    # data passages
    "passages-missing-metadata": ["data", "passages", "missing.csv", "--seconds", "10", "-o", "dp.tsv"],
    "passages-seconds-0": ["data", "passages", "short_train.csv", "--seconds", "0", "-o", "dp.tsv"],
    "passages-longer-than-any-video": ["data", "passages", "short_train.csv", "--seconds", "10", "-o", "dp.tsv"],
    "passages-no-split": ["data", "passages", "latin.tsv", "--seconds", "10", "-o", "dp.tsv"],
    "passages-overwrites-input": ["data", "passages", "short_train.csv", "--seconds", "1", "-o", "short_train.csv"],
    # data synth
    "synth-size": ["data", "synth", "--size", "huge", "-o", "sy"],
    "synth-workers": ["data", "synth", "--workers", "-2", "-o", "sy"],
    "synth-set-unknown": ["data", "synth", "--set", "nosuch=1", "-o", "sy"],
    # feature stores and the JSALT files
    "features-describe-empty-folder": ["features", "describe", "emptydir"],
    "features-describe-missing": ["features", "describe", "nowhere"],
    "import-jsalt-junk-h5": ["features", "import-jsalt", "junk.h5", "st", "--stream", "pose"],
    "import-jsalt-empty-h5": ["features", "import-jsalt", "empty.h5", "st", "--stream", "pose"],
    "import-jsalt-bad-json": ["features", "import-jsalt", "bad.json", "st", "--stream", "pose"],
    "import-jsalt-json-list": ["features", "import-jsalt", "list.json", "st", "--stream", "pose"],
    "import-jsalt-missing": ["features", "import-jsalt", "missing.json", "st", "--stream", "pose"],
    "check-jsalt-keywords-not-a-list": ["data", "check", "annotation.train.json", "-o", "dc/m.tsv"],
    # import-keypoints: the original SignLLaVA's keypoint JSON
    "import-keypoints-part-missing": ["import-keypoints", "kp_nopart.json", "-o", "ko", "--fps", "25"],
    "import-keypoints-wrong-point-count": ["import-keypoints", "kp_count.json", "-o", "ko", "--fps", "25"],
    "import-keypoints-not-json": ["import-keypoints", "bad.json", "-o", "ko", "--fps", "25"],
    "import-keypoints-no-frame-rate-known": ["import-keypoints", "kp_good.json", "-o", "ko"],
    # training, pretraining, features, evaluation: configs and the data they name
    "train-config-syntax": ["train", "--config", "syntax.yaml"],
    "train-config-type": ["train", "--config", "type.yaml"],
    "train-config-unknown-key": ["train", "--config", "unknown.yaml"],
    "train-set-type": ["train", "--set", "optim.lr=fast"],
    "train-stage": ["train", "--stage", "3"],
    "train-metadata-missing": ["train", "--set", "data.metadata=[missing.csv]", "--set", "output_dir=r"],
    "train-metadata-junk": ["train", "--set", "data.metadata=[junk.csv]", "--set", "output_dir=r"],
    "train-init-from-empty-folder": ["train", "--stage", "2", "--init-from", "emptydir", "--set", "output_dir=r"],
    "pretrain-objective": ["pretrain", "nope"],
    "pretrain-no-poses": ["pretrain", "sign2vec", "--set", "data.poses=emptydir", "--set", "output_dir=r"],
    "pretrain-config-syntax": ["pretrain", "sign2vec", "--config", "syntax.yaml"],
    "extract-features-stream": ["extract-features", "--stream", "nope", "--poses", "emptydir", "-o", "fs"],
    "extract-features-no-poses": ["extract-features", "--stream", "pose", "--poses", "emptydir", "-o", "fs"],
    "extract-features-checkpoint": [
        *("extract-features", "--stream", "sign2vec", "--poses", "emptydir", "-o", "fs", "--checkpoint", "emptydir")
    ],
    "evaluate-not-a-checkpoint": ["evaluate", "emptydir"],
    "evaluate-run-folder": ["evaluate", "run"],
    "evaluate-foreign-data-paths": ["evaluate", "run/last"],
    "evaluate-beam-0": ["evaluate", "run/last", "--beam", "0"],
    "evaluate-context-missing-file": ["evaluate", "run/last", "--context", "missing_hyps.txt"],
    # export
    "export-not-a-checkpoint": ["export", "emptydir", "ex"],
    "export-run-folder": ["export", "run", "ex"],
    "export-missing-report": ["export", "run/last", "ex", "--report", "missing.json"],
    "export-junk-report": ["export", "run/last", "ex", "--report", "bad.json"],
    "export-into-a-busy-folder": ["export", "run/last", "novideo"],
    "evaluate-repo-not-cached": ["evaluate", "someone/not-cached-anywhere"],
    # show-config, submit, jobs
    "show-config-stage": ["show-config", "nope"],
    "show-config-syntax": ["show-config", "train", "--config", "syntax.yaml"],
    "show-config-unknown-key": ["show-config", "train", "--set", "model.nosuch=1"],
    "submit-stage": ["submit", "nope", "-p", "slurm/local.yaml"],
    "submit-import-keypoints-no-frame-rate-known": [
        *(
            "submit",
            "import-keypoints",
            "-p",
            "slurm/local.yaml",
            "--set",
            "inputs=[kp_good.json]",
            "--set",
            "output=ko",
        )
    ],
    "submit-import-keypoints-no-json-here": [
        *("submit", "import-keypoints", "-p", "slurm/local.yaml", "--set", "inputs=[emptydir]", "--set", "output=ko")
    ],
    "submit-profile-syntax": ["submit", "train", "-p", "syntax.yaml"],
    "submit-profile-type": ["submit", "train", "-p", "profile_type.yaml"],
    "submit-profile-unknown-field": ["submit", "train", "-p", "profile_unknown.yaml"],
    "submit-profile-missing": ["submit", "train", "-p", "missing.yaml"],
    "jobs-no-run": ["jobs", "emptydir"],
    # a .pose of another tool or skeleton, where the model reads it: one line of what it has and needs
    "translate-openpose-pose": ["translate", "openpose.pose"],
    "translate-reduced-holistic-pose": ["translate", "reduced.pose"],
    "ask-alphapose-pose": ["ask", "alphapose.pose", "Is the sign 'dog' present?"],
    "train-openpose-dataset-poses": [
        *("train", "--set", "data.metadata=[short_train.csv]", "--set", "data.streams.pose.poses=openposes"),
        *("--set", "output_dir=r"),
    ],
    "pretrain-openpose-poses": ["pretrain", "sign2vec", "--set", "data.poses=openposes", "--set", "output_dir=r"],
    "extract-features-openpose-poses": ["extract-features", "--stream", "pose", "--poses", "openposes", "-o", "fs"],
    # damaged weight files: cut short, empty, another file renamed; in a checkpoint, an LLM folder, an encoder
    "translate-checkpoint-weights-truncated": ["translate", P, "--checkpoint", "trunc_ckpt"],
    "translate-checkpoint-weights-empty": ["translate", P, "--checkpoint", "empty_ckpt"],
    "translate-checkpoint-weights-renamed": ["translate", P, "--checkpoint", "renamed_ckpt"],
    "ask-checkpoint-weights-truncated": ["ask", P, "Is the sign 'dog' present?", "--checkpoint", "trunc_ckpt"],
    "evaluate-checkpoint-weights-empty": ["evaluate", "empty_ckpt"],
    "train-init-from-weights-renamed": [
        "train",
        "--stage",
        "2",
        "--init-from",
        "renamed_ckpt",
        "--set",
        "output_dir=r",
    ],
    "translate-llm-weights-empty": ["translate", P, "--llm", "damaged_llm"],
    "extract-features-encoder-weights-truncated": [
        *("extract-features", "--stream", "sign2vec", "--poses", "goodposes", "-o", "fs"),
        *("--checkpoint", "damaged_encoder"),
    ],
    # an output where a file is in the way (the output folder itself, or a folder above an output)
    "extract-output-is-a-file": ["extract-poses", V, "-o", "taken"],
    "extract-output-under-a-file": ["extract-poses", V, "-o", "taken/poses"],
    "demo-output-is-a-file": ["demo", "-o", "taken"],
    "synth-output-is-a-file": ["data", "synth", "-o", "taken"],
    "check-output-under-a-file": ["data", "check", "latin.tsv", "-o", "taken/m.tsv"],
    "passages-output-is-a-folder": ["data", "passages", "short_train.csv", "--seconds", "1", "-o", "emptydir"],
    "extract-features-output-is-a-file": [
        "extract-features",
        "--stream",
        "pose",
        "--poses",
        "goodposes",
        "-o",
        "taken",
    ],
    "import-jsalt-root-is-a-file": ["features", "import-jsalt", "junk.h5", "taken", "--stream", "pose"],
    "pretrain-output-dir-is-a-file": [
        "pretrain",
        "sign2vec",
        "--set",
        "data.poses=goodposes",
        "--set",
        "output_dir=taken",
    ],
    "train-output-dir-is-a-file": ["train", "--set", "output_dir=taken"],
    "evaluate-report-under-a-file": ["evaluate", "run/last", "-o", "taken/eval.json"],
    "translate-output-under-a-file": ["translate", P, "-o", "taken/out.txt"],
    "translate-batch-output-is-a-file": ["translate", P, "goodposes", "-o", "taken"],
    "ask-output-under-a-file": ["ask", P, "Is the sign 'dog' present?", "-o", "taken/answer.txt"],
    "visualize-output-under-a-file": ["visualize-pose", P, "-o", "taken/z.png"],
    "submit-run-folder-is-a-file": ["submit", "train", "-p", "slurm/local.yaml", "--set", "output_dir=taken"],
    # an array larger than the cluster's MaxArraySize
    "submit-array-larger-than-the-cluster-allows": [
        *("submit", "extract-poses", "-p", "bigarray.yaml", "--set", "inputs=[good.mp4]", "--set", "output=sp")
    ],
    # found by fuzzing every reader (benchmarks/fuzz.py): each was a traceback, or a silent success on garbage
    "check-manifest-not-utf8": ["data", "check", "notutf8_manifest.tsv", "-o", "dc/m.tsv"],
    "check-manifest-order-not-a-number": ["data", "check", "order_manifest.tsv", "-o", "dc/m.tsv"],
    "check-manifest-names-no-dataset": ["data", "check", "dataset_manifest.tsv", "-o", "dc/m.tsv"],
    "check-manifest-row-short-of-fields": ["data", "check", "short_manifest.tsv", "-o", "dc/m.tsv"],
    "check-manifest-start-nan": ["data", "check", "interval_manifest.tsv", "-o", "dc/m.tsv"],
    "check-manifest-row-without-a-name": ["data", "check", "noname_manifest.tsv", "-o", "dc/m.tsv"],
    "check-how2sign-field-past-the-csv-limit": ["data", "check", "bigfield_train.csv", "-o", "dc/m.tsv"],
    "check-csl-pickle-length-past-memory": ["data", "check", "cslpkl/csl2020ct_v2.pkl", "-o", "dc/m.tsv"],
    "import-jsalt-clip-a-dangling-link": ["features", "import-jsalt", "dangling.h5", "st", "--stream", "pose"],
    "import-jsalt-damaged-group": ["features", "import-jsalt", "damaged.h5", "st", "--stream", "pose"],
    "import-jsalt-index-shard-infinity": [
        "features",
        "import-jsalt",
        "infidx/pose.train.json",
        "st",
        "--stream",
        "pose",
    ],
    "import-jsalt-group-name-not-utf8": ["features", "import-jsalt", "bytesname.h5", "st", "--stream", "pose"],
    "pretrain-model-field-a-string": [
        *("pretrain", "sign2vec", "--set", "model.max_frames=many", "--set", "data.poses=goodposes"),
        *("--set", "output_dir=r"),
    ],
    "extract-features-encoder-model-field-a-string": [
        *("extract-features", "--stream", "sign2vec", "--poses", "goodposes", "-o", "fs"),
        *("--checkpoint", "typed_encoder"),
    ],
    "submit-profile-section-a-list": ["submit", "train", "-p", "profile_list_section.yaml"],
    "submit-profile-stages-a-number-and-a-name": ["submit", "train", "-p", "profile_odd_stages.yaml"],
    "submit-profile-nodes-a-fraction": [
        *("submit", "extract-poses", "-p", "profile_fraction.yaml", "--set", "inputs=[good.mp4]", "--set", "output=sp")
    ],
    "translate-checkpoint-meta-not-utf8": ["translate", P, "--checkpoint", "meta_notutf8_ckpt"],
    "translate-checkpoint-meta-streams-a-list": ["translate", P, "--checkpoint", "meta_streams_list_ckpt"],
    "translate-export-without-its-meta": ["translate", P, "--checkpoint", "export_nometa"],
    "translate-pose-frame-rate-nan": ["translate", "fpsnan.pose"],
    "translate-pose-coordinate-nan": ["translate", "nan.pose"],
    "visualize-pose-coordinate-far-outside": ["visualize-pose", "far.pose", "-o", "z.png"],
    "translate-frame-folder-png-chunk-past-its-end": ["translate", "png_chunk"],
    "ask-frame-folder-jpeg-cut-short": ["ask", "jpeg_cut", "Is the video reversed?"],
    "translate-frame-folder-empty-frame": ["translate", "empty_frame"],
    # input an error quotes: clipped to an excerpt
    "check-json-file-as-metadata": ["data", "check", "big.json", "-o", "dc/m.tsv"],
    "extract-manifest-row-of-200-kb": ["extract-poses", "longrow.txt", "-o", "eo"],
    "ask-question-of-80-kb": ["ask", P, "why " * 20_000],
}
if NO_CUDA:
    CASES["translate-device-cuda"] = ["translate", P, "--device", "cuda"]
if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    CASES["live-show-without-display"] = ["live", V, "--show"]


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.mark.parametrize("args", CASES.values(), ids=CASES.keys())
def test_bad_input_is_one_line_and_exit_2(args, bad, tmp_path, monkeypatch, capsys):
    work = tmp_path / "w"
    shutil.copytree(bad, work)
    shutil.copytree(Path(__file__).resolve().parents[2] / "slurm", work / "slurm")
    monkeypatch.chdir(work)
    # no row reaches a real cluster: SLURM's commands are fakes that say what a default cluster says
    monkeypatch.setenv("PATH", f"{bad / 'fakeslurm'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(sys, "argv", ["signllava", *args])
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() installs its own
    before = _tree(work)
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert exit_.value.code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert len(lines[0]) <= 1200, "an error quotes at most an excerpt of its input"
    assert _tree(work) == before, "a failed command wrote or changed files"


def test_the_table_tries_every_command():
    """A new command joins the table: every sub-command appears in at least one row."""
    import typer.main

    from signllava.cli import app

    group = typer.main.get_command(app)
    commands = {name for name, cmd in group.commands.items() if not hasattr(cmd, "commands")}
    commands |= {f"{name} {sub}" for name, cmd in group.commands.items() for sub in getattr(cmd, "commands", {})}
    tried = {" ".join(args[:2]) if args[0] in ("data", "features") else args[0] for args in CASES.values()}
    assert commands <= tried, f"commands without a bad-input row: {sorted(commands - tried)}"
