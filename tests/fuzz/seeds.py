"""Valid inputs of every reader, made small and on the spot (no real dataset is needed): the files the fuzzer
mutates. Each maker returns the bytes of one file; :mod:`tests.fuzz.targets` says where each goes.

Seeds are kept small because a mutation lands anywhere in its file: in a few kilobytes it hits the header,
the structure and the values alike, where in a large file nearly every edit would change a number only.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HOW2SIGN_HEADER = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE"
HOW2SIGN_ROWS = (
    "--7E2sU6zP4\t--7E2sU6zP4-5-rgb_front\t--7E2sU6zP4_10\t--7E2sU6zP4_10-5-rgb_front\t129.06\t142.48\t"
    '"And I call them decorative elements because they\'re ""accents""."',
    "--7E2sU6zP4\t--7E2sU6zP4-5-rgb_front\t--7E2sU6zP4_11\t--7E2sU6zP4_11-5-rgb_front\t142.5\t148.1\tSo they donâ€™t "
    "have to be perfect.",
    "_fZbAxSSbX4\t_fZbAxSSbX4-1-rgb_front\t_fZbAxSSbX4_0\t_fZbAxSSbX4_0-1-rgb_front\t0.0\t0.03\tHi.",
)


def how2sign_realigned(comma: bool = False, extra: bool = False) -> bytes:
    """How2Sign's realigned metadata as released (tab-separated, CRLF, doubled quotes, an ID starting with
    ``-``, mojibake); ``comma``: a comma-separated copy; ``extra``: paraphrase and gloss columns."""
    header, rows = HOW2SIGN_HEADER, list(HOW2SIGN_ROWS)
    if extra:
        header += "\tPARAPHRASE_1\tGLOSSES"
        rows = [r + "\tanother way\tHELLO WORLD" for r in rows]
    if comma:
        header, rows = header.replace("\t", ","), [r.replace("\t", ",") for r in rows]
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


def manifest(dataset: str = "") -> bytes:
    """A manifest as ``data check`` writes it (of How2Sign, or of another dataset with its DATASET and ORDER)."""
    from signllava.data.how2sign import check_metadata, write_manifest

    with _scratch() as tmp:
        (tmp / "how2sign_realigned_train.csv").write_bytes(how2sign_realigned(extra=True))
        report = check_metadata([tmp / "how2sign_realigned_train.csv"], min_duration=0.0)
        write_manifest(report.kept, tmp / "m.tsv", {s.sentence_name: "v.mp4" for s in report.kept}, dataset=dataset)
        return (tmp / "m.tsv").read_bytes()


def phoenix_corpus() -> bytes:
    return (
        "name|video|start|end|speaker|orth|translation\n"
        "11August_2010_Wednesday_tagesschau-2|11August_2010_Wednesday_tagesschau-2/1/*.png|-1|-1|Signer08|"
        "DRUCK TIEF KOMMEN|tiefer luftdruck bestimmt in den nächsten tagen unser wetter\n"
        "11August_2010_Wednesday_tagesschau-3|11August_2010_Wednesday_tagesschau-3/1/*.png|-1|-1|Signer08|"
        "ES-BEDEUTET VIEL WOLKE|das bedeutet viele wolken und immer wieder zum teil kräftige schauer und gewitter\n"
        "25October_2010_Monday_tagesschau-17|25October_2010_Monday_tagesschau-17/1/*.png|-1|-1|Signer01|"
        "REGEN SCHNEE|regen und schnee\n"
    ).encode()


def caption_vtt() -> bytes:
    """A WebVTT file as YouTube and editors write them: BOM, CRLF, STYLE and NOTE blocks, cue ids and settings,
    tags, inline timestamps, a rolling cue, no final newline."""
    return (
        "\ufeffWEBVTT\r\nKind: captions\r\n\r\nSTYLE\r\n::cue { color: yellow }\r\n\r\nNOTE a note\r\n\r\n"
        "1\r\n00:00:00.500 --> 00:00:01.500 align:start position:10%\r\n<v Ann>Hello <i>all</i> &amp; you\r\n\r\n"
        "00:01.500 --> 00:00:02.800\r\nHello all &amp; you\r\n<c.y>Today</c><00:00:02.000><c> we</c>\r\n\r\n"
        "00:00:02.800 --> 00:00:03.500\r\n[MUSIC] \u266a\r\n\r\n00:00:03.500 --> 00:00:03.900\r\n>> BOB: bye"
    ).encode("utf-8")


def caption_srt() -> bytes:
    """A SubRip file with a dot where a comma belongs, font and ASS tags, mojibake, a two-line cue."""
    return (
        '1\n00:00:00,200 --> 00:00:01,200\n<font color="#ff0">- Good morning</font>\n\n'
        "2\n00:00:01.300 --> 00:00:02,400\n{\\an8}caf\u00c3\u00a9 time (applause)\n(and tea)\n\n"
        "3\n00:00:02,900 --> 00:00:03,800\nthank you\n"
    ).encode("utf-8")


OPENASL_HEADER = ("vid", "yid", "start", "end", "raw-text", "tokenized-text", "gloss", "split")


def openasl_tsv() -> bytes:
    """OpenASL's openasl-v1.0.tsv as released: ffmpeg times, clip ids with ':' in them, valid for val."""
    rows = [
        ("-abc-00:00:02.270-00:00:05.000", "-abc", "00:00:02.270", "00:00:05.000", "Hi, I'm Deaf.", "hi", "", "train"),
        ("xyz-00:00:01.000-00:00:02.000", "xyz", "00:00:01.000", "00:00:02.000", "A question?", "a ?", "", "valid"),
        ("xyz-00:00:03.000-00:00:04.000", "xyz", "00:00:03.000", "00:00:04.000", "Last one.", "last one .", "", "test"),
    ]  # fmt: skip
    return "".join("\t".join(r) + "\n" for r in [OPENASL_HEADER, *rows]).encode("utf-8")


CSL_ROWS = (("S000000_P0000_T00", "他 家 有 什么", "他 家 里 有 什 么 ？"), ("S000001_P0001_T00", "你 好", "你 好"))


def csl_video_map() -> bytes:
    rows = [f"{i}|{name}|92|{g}|{c}|{c}|r n v r w" for i, (name, g, c) in enumerate(CSL_ROWS)]
    return "\n".join(["index|name|length|gloss|char|word|postag", *rows, ""]).encode("utf-8")


def csl_split() -> bytes:
    return b"name|split\nS000000_P0000_T00|train\nS000001_P0001_T00|dev\n"


def csl_pickle() -> bytes:
    info = [
        {"name": name, "length": 92, "label_gloss": g.split(), "label_char": c.split(), "label_word": c.split()}
        for name, g, c in CSL_ROWS
    ]
    return pickle.dumps({"info": info, "gloss_map": ["他", "家"], "char_map": ["他"]}, protocol=4)


def plain_pickles() -> list[bytes]:
    """Plain data at every protocol (the opcodes differ), and an object the unpickler must refuse."""
    doc = {"a": [1, 2.5, None, True], "b": ("x", b"y"), "c": {3, 4}, 5: frozenset({"z"}), "big": 2**70}
    out = [pickle.dumps(doc, protocol=p) for p in range(pickle.HIGHEST_PROTOCOL + 1)]
    out.append(pickle.dumps(io.BytesIO(b"an object"), protocol=2))
    return out


def jsalt_annotations() -> bytes:
    doc = {
        "vid00": {
            "clip_order": ["clip_1", "clip_2"],
            "clip_1": {"translation": "hello there", "paraphrases": ["hi there"], "keywords": ["hello"]},
            "clip_2": {"translation": "itâ€™s cold", "paraphrases": []},
        },
        "vid01": {"clip_order": ["clip_1"], "clip_1": {"translation": "good night"}},
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def jsalt_shard() -> bytes:
    """One JSALT HDF5 shard ``{video: {clip: float16 (T, D)}}``, as small as HDF5 writes one."""
    import h5py

    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for v in range(2):
            group = f.create_group(f"vid{v:02d}")
            for c in range(2):
                group.create_dataset(f"clip_{c + 1}", data=rng.standard_normal((3, 4)).astype(np.float16))
    return buf.getvalue()


def jsalt_index() -> bytes:
    return json.dumps({"vid00": 0, "vid01": 0}).encode()


def keypoint_json(frames: int = 1, face: int = 0) -> bytes:
    """The original SignLLaVA's keypoint JSON of a clip (``{"joints": {"<frame>": {part: [[x, y, z, v], ...]}}}``):
    body and left hand found, the right hand not; a face of ``face`` points (0: not found, to stay small)."""
    rng = np.random.default_rng(frames + face)

    def points(n: int, fourth) -> list:
        xy = rng.uniform(5, 60, (n, 2)).round(1)
        return [
            [*p, round(float(z), 2), fourth(i)]
            for i, (p, z) in enumerate(zip(xy.tolist(), rng.uniform(-1, 1, n), strict=True))
        ]

    joints = {
        str(t): {
            "pose_landmarks": points(33, lambda i: round(0.5 + i / 66, 2)),
            "face_landmarks": points(face, lambda i: 0.0),
            "left_hand_landmarks": points(21, lambda i: 0.0),
            "right_hand_landmarks": [],
        }
        for t in range(frames)
    }
    return json.dumps({"joints": joints}, separators=(",", ":")).encode()


def pose_file(frames: int = 1) -> bytes:
    """A Holistic ``.pose`` (what extract-poses writes) with ``frames`` frames."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    from pose.config import HolisticConfig
    from pose.holistic import holistic_header

    header = holistic_header(64, 48, HolisticConfig(backend="legacy"))
    n = header.total_points()
    rng = np.random.default_rng(0)
    data = rng.uniform(5, 40, (frames, 1, n, 3)).astype(np.float32)
    conf = (rng.uniform(0, 1, (frames, 1, n)) > 0.2).astype(np.float32)
    buf = io.BytesIO()
    Pose(header, NumPyPoseBody(fps=25, data=data, confidence=conf)).write(buf)
    return buf.getvalue()


def other_pose_file() -> bytes:
    """A 2-D pose of another skeleton (a small made-up one): drawing reads it, the model refuses it."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    points = ["NOSE", "NECK", "HAND"]
    component = PoseHeaderComponent("BODY", points, [(0, 1), (1, 2)], [(255, 0, 0)] * 3, "XYC")
    header = PoseHeader(0.1, PoseHeaderDimensions(64, 48), [component])
    data = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 1, 3, 2)
    buf = io.BytesIO()
    Pose(header, NumPyPoseBody(fps=30, data=data, confidence=np.ones((2, 1, 3), np.float32))).write(buf)
    return buf.getvalue()


def image(kind: str, seed: int = 0) -> bytes:
    """One small frame as PNG or JPEG bytes (the two datasets' frame formats)."""
    import cv2

    img = np.random.default_rng(seed).integers(0, 255, (6, 5, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(f".{kind}", img)
    assert ok
    return encoded.tobytes()


def train_config() -> bytes:
    from pose.config_loader import config_yaml
    from signllava.model.build import TrainConfig

    return config_yaml(TrainConfig()).encode()


def extract_config() -> bytes:
    from pose.config import ExtractConfig
    from pose.config_loader import config_yaml

    return config_yaml(ExtractConfig()).encode()


def profiles() -> list[bytes]:
    """The cluster profiles the repository ships (slurm/*.yaml)."""
    root = Path(__file__).resolve().parents[2] / "slurm"
    return [p.read_bytes() for p in sorted(root.glob("*.yaml"))]


@functools.lru_cache(maxsize=1)
def tiny_checkpoint() -> dict[str, bytes]:
    """The files of a SignLLaVA checkpoint of a tiny model (:func:`tiny_model`): meta.json, config.yaml and the
    weights, whose header (its 8-byte length and JSON) is what a mutation should reach."""
    from pose.config_loader import save_config
    from signllava.model.checkpoint import write_checkpoint

    model, cfg = tiny_model()
    with _scratch() as tmp:
        write_checkpoint(tmp, model, step=3)
        save_config(cfg, tmp / "config.yaml")
        return {p.name: p.read_bytes() for p in tmp.iterdir()}


@functools.lru_cache(maxsize=1)
def tiny_model():
    """A SignLLaVA on a 1-layer Llama of hidden size 16 with one 8-value pose stream, and its TrainConfig: the
    model a checkpoint is loaded into (built once; only the trainable state is read from the checkpoint)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from signllava.model.build import TrainConfig
    from signllava.model.model import ModelConfig, SignLLaVA, StreamConfig

    torch.manual_seed(0)
    tokenizer = _tokenizer()
    llm = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
        )
    )
    llm.requires_grad_(False)
    cfg = TrainConfig(model=ModelConfig(llm="tiny", streams={"pose": StreamConfig(8)}))
    return SignLLaVA(cfg.model, llm, tokenizer), cfg


def _tokenizer():
    from transformers import AutoTokenizer

    from signllava.model.llm import DEFAULT_LLM, resolve

    tokenizer = AutoTokenizer.from_pretrained(resolve(DEFAULT_LLM))
    tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


@functools.lru_cache(maxsize=1)
def tiny_encoder() -> dict[str, bytes]:
    """The files of a pretraining checkpoint of a tiny Sign2Vec: config.yaml and model.safetensors."""
    from safetensors.torch import save_file

    from pretrain.build import PretrainConfig, build_objective, config_text

    cfg = PretrainConfig("sign2vec", {"size": "tiny", "max_frames": 40})
    state = {k: v.contiguous() for k, v in build_objective(cfg).state_dict().items()}
    with _scratch() as tmp:
        save_file(state, tmp / "model.safetensors")
        return {"config.yaml": config_text(cfg).encode(), "model.safetensors": (tmp / "model.safetensors").read_bytes()}


@functools.lru_cache(maxsize=1)
def tiny_export() -> dict[str, bytes]:
    """The files of ``signllava export`` of the tiny checkpoint (config.json and model.safetensors)."""
    from signllava.model.export import export

    with _scratch() as tmp:
        for name, data in tiny_checkpoint().items():
            (tmp / "ckpt").mkdir(exist_ok=True)
            (tmp / "ckpt" / name).write_bytes(data)
        export(tmp / "ckpt", tmp / "out", license="apache-2.0")
        return {name: (tmp / "out" / name).read_bytes() for name in ("config.json", "model.safetensors")}


def weights_header(data: bytes) -> tuple[bytes, bytes]:
    """A safetensors file split into its header (length and JSON) and its tensor bytes."""
    n = int.from_bytes(data[:8], "little")
    return data[: 8 + n], data[8 + n :]


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    """A temporary folder for making a seed, removed after."""
    with tempfile.TemporaryDirectory(prefix="fuzz-seed-") as tmp:
        yield Path(tmp)
