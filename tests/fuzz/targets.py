"""One fuzz target per reader, each reaching it through the functions the CLI calls, with its seeds.

A target writes the fuzzer's bytes where the reader looks (for a folder of several files, the first byte
picks which file the rest replaces, the others staying valid) and reads them as a command would: the same
entry points, and then what the command does next with what was read (views of a pose, a manifest written
and read back, a config saved), so that a reader that returns garbage without a word is caught where its
caller would trip on it (:class:`~tests.fuzz.harness.Garbage`). Only a one-line
:class:`~pose.errors.InputError` may escape (:func:`~tests.fuzz.harness.attempt`).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from pose.errors import InputError

from . import seeds, strategies
from .harness import ONE_LINE, Garbage, Target


def _entry(fn: Callable, *args, **kwargs):
    """``fn(*args)``, or None where it refused the input in one line (an InputError of several lines escapes as
    a crash): each entry point of a target runs, whatever the one before it said."""
    try:
        return fn(*args, **kwargs)
    except InputError as err:
        if "\n" in str(err) or "\r" in str(err) or len(str(err)) > ONE_LINE:
            raise
        return None


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _pick(data: bytes, names: Sequence[str]) -> tuple[str, bytes]:
    """Which file of a folder ``data`` replaces (its first byte), and the file's new bytes (the rest)."""
    return (names[data[0] % len(names)], data[1:]) if data else (names[0], b"")


def _picked(index: int, content: bytes) -> bytes:
    return bytes([index]) + content


# --- .pose files ---------------------------------------------------------------------------------------------


def read_pose_file(data: bytes, scratch: Path) -> None:
    """``translate``/``ask`` on a .pose: its duration from the header (``pose_seconds``), then the pose read for
    the model, resampled to the model's rate and turned into both views; ``visualize-pose`` reads any skeleton."""
    from pose.features import pose_view_208, sign2vec_view_255
    from pose.io import pose_seconds, read_pose
    from pose.video import resample_pose

    path = _fresh(scratch / "pose") / "clip.pose"
    path.write_bytes(data)
    seconds = _entry(pose_seconds, path)
    if seconds is not None and not (math.isfinite(seconds) and seconds >= 0):
        raise Garbage(f"pose_seconds gave {seconds}")
    _entry(read_pose, path, holistic=False)
    pose = _entry(read_pose, path)
    if pose is None:
        return
    if seconds is None:
        raise Garbage("read_pose read a file whose header pose_seconds refused")
    pose = resample_pose(pose, 25.0)
    for view in (pose_view_208, sign2vec_view_255):
        features, found = view(pose)
        if not np.isfinite(features).all():
            raise Garbage(f"{view.__name__} gave non-finite values")


def read_keypoint_json(data: bytes, scratch: Path) -> None:
    """``import-keypoints`` on one of the original SignLLaVA's keypoint JSON files: read into a Holistic pose,
    written, and read back as training reads a .pose (which must accept what the import wrote), both views."""
    from pose.features import pose_view_208, sign2vec_view_255
    from pose.io import read_pose, write_pose
    from pose.keypoints_json import read_keypoints

    folder = _fresh(scratch / "keypoints")
    path = folder / "clip.json"
    path.write_bytes(data)
    pose = _entry(read_keypoints, path, 25.0)
    if pose is None:
        return
    write_pose(pose, folder / "clip.pose")
    try:
        pose = read_pose(folder / "clip.pose")
    except InputError as err:
        raise Garbage(f"read_pose refused what import-keypoints wrote: {err}") from err
    for view in (pose_view_208, sign2vec_view_255):
        features, _ = view(pose)
        if not np.isfinite(features).all():
            raise Garbage(f"{view.__name__} gave non-finite values")


# --- metadata: How2Sign, manifests, PHOENIX-2014T, CSL-Daily, JSALT annotations --------------------------------


def _check_sentences(sentences) -> None:
    """What training and evaluation rely on of every sentence read: text where text belongs, finite times in
    order, a name."""
    for s in sentences:
        fields = (s.video_id, s.video_name, s.sentence_id, s.sentence_name, s.text, s.split)
        if not all(isinstance(f, str) for f in fields) or not all(isinstance(p, str) for p in s.paraphrases):
            raise Garbage(f"a sentence with a field that is not text: {s!r:.200}")
        if not s.sentence_name:
            raise Garbage("a sentence without a name")
        if not (math.isfinite(s.start) and math.isfinite(s.end) and 0 <= s.start <= s.end):
            raise Garbage(f"sentence {s.sentence_name!r:.80} has times {s.start}..{s.end}")


def _read_metadata(paths: Sequence[Path], scratch: Path):
    """``data check``/``train``'s reading of metadata files (recognized, read, checked), then its manifest
    written and read back: the same sentences must come back."""
    from signllava.data.datasets import read_metadata
    from signllava.data.how2sign import write_manifest

    found = _entry(read_metadata, paths)
    if found is None:
        return None
    report, _ = found
    _check_sentences(report.kept)
    report.summary()
    if report.kept:
        manifest = scratch / "out" / "manifest.tsv"
        dataset = report.dataset if report.dataset not in ("how2sign", "manifest") else ""
        write_manifest(report.kept, manifest, dataset=dataset)
        back, _ = read_metadata([manifest])
        if sorted((s.sentence_name, s.text) for s in back.kept) != sorted(
            (s.sentence_name, s.text) for s in report.kept
        ):
            raise Garbage("the manifest written of these sentences reads back other sentences")
    return report


def read_how2sign(data: bytes, scratch: Path) -> None:
    """``data check`` on How2Sign files (``check_metadata``, as it reads them) and every other command's reading
    (``read_metadata``)."""
    from signllava.data.how2sign import check_metadata

    path = _fresh(scratch / "h2s") / "how2sign_realigned_train.csv"
    path.write_bytes(data)
    report = _entry(check_metadata, [path])
    if report is not None:
        _check_sentences(report.kept)
    _read_metadata([path], scratch / "h2s")


def _sentence_file(data: bytes, scratch: Path, folder: str, name: str, reader: Callable) -> list | None:
    """``data`` as the file ``name`` read by its own reader (its sentences checked), then as every command reads
    metadata; the reader's sentences, or None where it refused the file."""
    path = _fresh(scratch / folder) / name
    path.write_bytes(data)
    sentences = _entry(reader, path)
    if sentences is not None:
        _check_sentences(sentences)
    _read_metadata([path], scratch / folder)
    return sentences


def read_manifest_file(data: bytes, scratch: Path) -> None:
    from signllava.data.how2sign import read_manifest

    _sentence_file(data, scratch, "manifest", "manifest.tsv", read_manifest)


def read_phoenix(data: bytes, scratch: Path) -> None:
    path = _fresh(scratch / "phoenix") / "PHOENIX-2014-T.dev.corpus.csv"
    path.write_bytes(data)
    _read_metadata([path], scratch / "phoenix")


CSL_FILES = ("video_map.txt", "split_1.txt", "csl2020ct_v2.pkl")


def read_csl(data: bytes, scratch: Path) -> None:
    """CSL-Daily: its table with its split file, or its pickle alone (the split file beside it is found)."""
    name, content = _pick(data, CSL_FILES)
    folder = _fresh(scratch / "csl")
    valid = {"video_map.txt": seeds.csl_video_map(), "split_1.txt": seeds.csl_split(), "csl2020ct_v2.pkl": b""}
    for file, good in valid.items():
        (folder / file).write_bytes(content if file == name else good)
    given = (
        [folder / "csl2020ct_v2.pkl"]
        if name == "csl2020ct_v2.pkl"
        else [folder / "video_map.txt", folder / "split_1.txt"]
    )
    _read_metadata(given, folder)


def read_jsalt_annotations(data: bytes, scratch: Path) -> None:
    from signllava.data.jsalt import read_annotations

    sentences = _sentence_file(data, scratch, "jsalt", "annotation.train.json", read_annotations)
    if sentences is not None:
        _ask_words(sentences)


def _ask_words(sentences) -> None:
    """The word questions training draws about the first sentences (keyword questions where they have keywords)
    are asked as ``ask`` reads them back: the words a question asks must be the words it was made of."""
    import random

    from signllava.data.tasks import TaskBuilder
    from signllava.inference.questions import parse_question

    builder, rng = TaskBuilder(sentences[:50]), random.Random(0)
    for s in sentences[:10]:
        for task in ("sign_present", "signs_present"):
            made = builder.make(s, task, rng)
            if made is None:
                continue
            question = parse_question(made.question)
            if question is None or len(question.words) != len(made.answer.split(", ")):
                raise Garbage(f"{made.question!r} is not read back as the {task} question it was made as")


CAPTION_FILES = ("talk.vtt", "lecture.en.srt", "openasl-v1.0.tsv")


def read_captions(data: bytes, scratch: Path) -> None:
    """Captioned videos: a WebVTT or SubRip file beside its video, the folder holding them, or a caption table
    (OpenASL's TSV); the picked file replaced, the others valid."""
    name, content = _pick(data, CAPTION_FILES)
    folder = _fresh(scratch / "captions")
    valid = {"talk.vtt": seeds.caption_vtt(), "lecture.en.srt": seeds.caption_srt(), "openasl-v1.0.tsv": b""}
    (folder / "subs").mkdir()
    for file, good in valid.items():
        (folder / ("subs" if file != "openasl-v1.0.tsv" else "") / file).write_bytes(content if file == name else good)
    if name == "openasl-v1.0.tsv":
        _read_metadata([folder / name], folder)
    else:
        _read_metadata([folder / "subs" / name], folder)
        _read_metadata([folder / "subs"], folder)


# --- pickles from elsewhere --------------------------------------------------------------------------------------

PLAIN = (int, float, complex, str, bytes, bytearray, bool, type(None))


def _plain(value) -> bool:
    """Whether ``value`` holds plain data only, each container walked once: a pickle may share one object many
    times, or hold itself (a list appended to itself), so a plain recursive walk could take exponential time."""
    seen, stack = set(), [value]
    while stack:
        item = stack.pop()
        if isinstance(item, PLAIN):
            continue
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        else:
            return False
    return True


def read_pickle(data: bytes, scratch: Path) -> None:
    """``pose.plain_pickle``: plain data or one line, never an object built (nor any code run); inert reading
    (a submitit job's outcome) stands objects in without building them."""
    from pose.plain_pickle import Opaque, loads_plain

    path = scratch / "x.pkl"
    value = _entry(loads_plain, data, path)
    if value is not None and not _plain(value):
        raise Garbage(f"loads_plain built a {type(value).__name__} that is not plain data")
    inert = _entry(loads_plain, data, path, inert=True)
    del inert, Opaque


# --- the JSALT HDF5 shards ---------------------------------------------------------------------------------------

JSALT_FILES = ("pose.train.0.h5", "pose.train.json")


def read_jsalt_shards(data: bytes, scratch: Path) -> None:
    """``features import-jsalt`` (a shard, or the index naming it) and training's reading of the shards in place
    (``open_features``, every clip read)."""
    from pretrain.features import open_features
    from pretrain.jsalt import import_jsalt

    name, content = _pick(data, JSALT_FILES)
    folder = _fresh(scratch / "jsalt-h5")
    shard = content if name == JSALT_FILES[0] else seeds.jsalt_shard()
    (folder / JSALT_FILES[0]).write_bytes(shard)
    if name == JSALT_FILES[1]:
        (folder / JSALT_FILES[1]).write_bytes(content)
    given = folder / name
    _entry(import_jsalt, given, folder / "store", "pose")
    features = _entry(open_features, given)
    if features is None:
        return
    for clip in features.clips():
        array = _entry(features.read, clip)
        if array is not None and (array.ndim != 2 or array.shape[0] != features.frames(clip)):
            raise Garbage(f"clip {clip!r:.80} read as shape {array.shape}")
    features.close()


# --- YAML: configs and cluster profiles -------------------------------------------------------------------------

CONFIG_SCHEMAS = ("train", "extract")


def _schema(name: str):
    if name == "train":
        from signllava.model.build import TrainConfig

        return TrainConfig
    from pose.config import ExtractConfig

    return ExtractConfig


def read_config(data: bytes, scratch: Path) -> None:
    """``--config`` of ``train`` (TrainConfig) or ``extract-poses`` (ExtractConfig), then the config saved beside
    the run's outputs as a run does, and read back the same."""
    from pose.config_loader import load_config, save_config

    name, content = _pick(data, CONFIG_SCHEMAS)
    schema = _schema(name)
    path = _fresh(scratch / "config") / "config.yaml"
    path.write_bytes(content)
    config = _entry(load_config, schema, path)
    if config is None:
        return
    if not isinstance(config, schema):
        raise Garbage(f"load_config gave a {type(config).__name__}")
    save_config(config, scratch / "config" / "saved.yaml")
    if load_config(schema, scratch / "config" / "saved.yaml") != config:
        raise Garbage("the config saved does not read back the same")


def _typed(profile) -> None:
    """The profile's fields have their declared types (what submitit's parameters and sbatch rely on)."""
    ints = ("nodes", "tasks_per_node", "gpus_per_node", "cpus_per_task", "time_min", "array_size")
    ints += ("array_parallelism", "max_requeues", "signal_delay_s")
    for name in ints:
        value = getattr(profile, name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise Garbage(f"profile field {name} is {value!r:.80}")
    for name in ("partition", "account", "qos", "constraint"):
        if getattr(profile, name) is not None and not isinstance(getattr(profile, name), str):
            raise Garbage(f"profile field {name} is {getattr(profile, name)!r:.80}")
    if profile.mem_gb is not None and (isinstance(profile.mem_gb, bool) or not isinstance(profile.mem_gb, int | float)):
        raise Garbage(f"profile field mem_gb is {profile.mem_gb!r:.80}")
    if not isinstance(profile.setup, list) or not all(isinstance(line, str) for line in profile.setup):
        raise Garbage(f"profile field setup is {profile.setup!r:.80}")
    if not isinstance(profile.sbatch, dict):
        raise Garbage(f"profile field sbatch is {profile.sbatch!r:.80}")


def read_profile(data: bytes, scratch: Path) -> None:
    """``submit -p PROFILE`` for every stage: the profile merged for it, and submitit's parameters from it."""
    from signllava.cluster.profiles import load_profile
    from signllava.cluster.stages import STAGES

    path = _fresh(scratch / "profile") / "profile.yaml"
    path.write_bytes(data)
    for stage in STAGES:
        profile = _entry(load_profile, path, stage)
        if profile is None:
            return
        _typed(profile)
        profile.executor_parameters()


# --- checkpoints, encoder checkpoints, exports ------------------------------------------------------------------

CHECKPOINT_FILES = ("meta.json", "config.yaml", "model.safetensors")


def _weights(folder: Path, header: bytes, original: bytes) -> None:
    """A weight file with ``header`` (its length and JSON, as the fuzzer changed them) before the tensor bytes of
    the valid file: a mutation reaches the header, where safetensors and our checks read, not only the values."""
    (folder / "model.safetensors").write_bytes(header + seeds.weights_header(original)[1])


def _checkpoint_folder(data: bytes, folder: Path, files: dict[str, bytes]) -> Path:
    name, content = _pick(data, list(files))
    _fresh(folder)
    for file, good in files.items():
        if file == name and file == "model.safetensors":
            _weights(folder, content, good)
        else:
            (folder / file).write_bytes(content if file == name else good)
    return folder


def read_checkpoint(data: bytes, scratch: Path) -> None:
    """``translate --checkpoint``/``evaluate``/``--init-from`` on a checkpoint folder: its metadata and weight
    header (``read_meta``), its config (``trained_config``), then its weights loaded strictly into the model
    (``load_checkpoint``), as ``load_trained`` does once the LLM is loaded."""
    from signllava.model.build import trained_config
    from signllava.model.checkpoint import load_checkpoint, read_meta

    folder = _checkpoint_folder(data, scratch / "ckpt", seeds.tiny_checkpoint())
    if _entry(read_meta, folder) is None or _entry(trained_config, folder) is None:
        return
    model, _ = seeds.tiny_model()
    _entry(load_checkpoint, folder, model)
    _entry(load_checkpoint, folder, model, warm_start=True)


def read_encoder(data: bytes, scratch: Path) -> None:
    """``--encoder`` / ``extract-features --checkpoint``: a pretraining checkpoint (``load_objective``)."""
    from pretrain.build import load_objective

    folder = _checkpoint_folder(data, scratch / "encoder", seeds.tiny_encoder())
    _entry(load_objective, folder)


def read_export(data: bytes, scratch: Path) -> None:
    """An exported folder wherever a checkpoint is taken: its config.json (``read_export_config``), rebuilt into
    our layout (``resolve_checkpoint``), then read as a checkpoint is."""
    import os

    from signllava.model.build import trained_config
    from signllava.model.checkpoint import load_checkpoint, read_meta
    from signllava.model.hub import read_export_config, resolve_checkpoint

    folder = _checkpoint_folder(data, scratch / "export", seeds.tiny_export())
    if _entry(read_export_config, folder) is None:
        return
    # the export is rebuilt into a cache of its own, not the session's (which holds the default LLM)
    cache = os.environ.get("SIGNLLAVA_CACHE")
    os.environ["SIGNLLAVA_CACHE"] = str(_fresh(scratch / "cache"))
    try:
        checkpoint = _entry(resolve_checkpoint, folder)
    finally:
        if cache is None:
            os.environ.pop("SIGNLLAVA_CACHE")
        else:
            os.environ["SIGNLLAVA_CACHE"] = cache
    if checkpoint is None or _entry(read_meta, checkpoint) is None or _entry(trained_config, checkpoint) is None:
        return
    _entry(load_checkpoint, checkpoint, seeds.tiny_model()[0])


# --- frame folders -----------------------------------------------------------------------------------------------

FRAMES = 3


def read_frames(data: bytes, scratch: Path) -> None:
    """A folder of numbered frames as a video (``translate``/``extract-poses`` on PHOENIX's PNGs or CSL-Daily's
    JPEGs): probed, then every frame decoded; the first byte picks the format and the frame the rest replaces."""
    from pose.video import VideoStream, probe

    index, content = (data[0], data[1:]) if data else (0, b"")
    kind = ("png", "jpg")[(index // FRAMES) % 2]
    folder = _fresh(scratch / "frames" / "clip")
    for i in range(FRAMES):
        good = seeds.image(kind, seed=i)
        (folder / f"images{i + 1:04d}.{kind}").write_bytes(content if i == index % FRAMES else good)
    info = _entry(probe, folder)
    stream = _entry(VideoStream, folder, target_fps=25.0)
    if info is None or stream is None:
        return
    frames = _entry(list, stream.frames())
    if frames is not None and any(f.dtype != np.uint8 or f.shape != (info.height, info.width, 3) for f in frames):
        raise Garbage("frames of another size or type than the probe said")


# --- every target ----------------------------------------------------------------------------------------------


def _pose_seeds(scratch: Path) -> list[bytes]:
    return [seeds.pose_file(1), seeds.pose_file(2), seeds.other_pose_file()]


def _csl_seeds(scratch: Path) -> list[bytes]:
    return [_picked(0, seeds.csl_video_map()), _picked(1, seeds.csl_split()), _picked(2, seeds.csl_pickle())]


def _jsalt_h5_seeds(scratch: Path) -> list[bytes]:
    return [_picked(0, seeds.jsalt_shard()), _picked(1, seeds.jsalt_index())]


def _config_seeds(scratch: Path) -> list[bytes]:
    return [_picked(0, seeds.train_config()), _picked(1, seeds.extract_config())]


def _folder_seeds(files: Callable[[], dict[str, bytes]]) -> Callable[[Path], list[bytes]]:
    def make(scratch: Path) -> list[bytes]:
        out = []
        for i, (name, data) in enumerate(files().items()):
            out.append(_picked(i, seeds.weights_header(data)[0] if name == "model.safetensors" else data))
        return out

    return make


def _frame_seeds(scratch: Path) -> list[bytes]:
    return [
        _picked(i + FRAMES * k, seeds.image(kind, seed=i)) for k, kind in enumerate(("png", "jpg")) for i in range(2)
    ]


CSV_TOKENS = (b"\t", b'"', b'""', b"\r\n", b",", b"-5-rgb_front", b"\xc3\xa2\xe2\x82\xac\xe2\x84\xa2", b"\xe2\x80")
JSON_TOKENS = (b"{", b"}", b"[", b"]", b'"', b":", b",", b"null", b"true", b"1e400", b"-0", b'"\\ud800"', b"[[[[")
YAML_TOKENS = (b": ", b"\n  ", b"- ", b"{", b"[", b"!!python/object", b"&a", b"*a", b"${", b"???", b"~", b"null", b"'")
SAFETENSORS_TOKENS = (b'"dtype"', b'"shape"', b'"data_offsets"', b'"F16"', b'"BF16"', b'"__metadata__"', b"[0,0]")

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("pose", read_pose_file, _pose_seeds, ("pose/io.py", "pose/features.py", "pose/video.py")),
        Target(
            "keypoint-json",
            read_keypoint_json,
            lambda s: [seeds.keypoint_json(1), seeds.keypoint_json(2, face=468)],
            ("pose/keypoints_json.py",),
            strategies.keypoint_files,
            JSON_TOKENS + (b'"joints"', b'"pose_landmarks"', b'"face_landmarks"', b"[]", b"0.0", b"1.5"),
        ),
        Target(
            "how2sign",
            read_how2sign,
            lambda s: [seeds.how2sign_realigned(), seeds.how2sign_realigned(comma=True, extra=True)],
            ("signllava/data/how2sign.py", "signllava/data/registry.py", "signllava/data/samples.py"),
            strategies.how2sign_tables,
            CSV_TOKENS,
        ),
        Target(
            "manifest",
            read_manifest_file,
            lambda s: [seeds.manifest(), seeds.manifest("phoenix14t")],
            ("signllava/data/how2sign.py", "signllava/data/registry.py"),
            strategies.manifests,
            CSV_TOKENS + (b"split\t", b"DATASET", b"ORDER", b"csl-daily", b"jsalt"),
        ),
        Target(
            "phoenix",
            read_phoenix,
            lambda s: [seeds.phoenix_corpus()],
            ("signllava/data/phoenix.py", "signllava/data/registry.py"),
            strategies.phoenix_corpora,
            (b"|", b"-1", b"tagesschau-", b"\n"),
        ),
        Target(
            "csl-daily",
            read_csl,
            _csl_seeds,
            ("signllava/data/csl_daily.py", "signllava/data/registry.py", "pose/plain_pickle.py"),
            strategies.csl_files,
            (b"|", b"train", b"dev", b"\n"),
        ),
        Target(
            "jsalt-annotations",
            read_jsalt_annotations,
            lambda s: [seeds.jsalt_annotations()],
            ("signllava/data/jsalt.py", "signllava/data/registry.py"),
            strategies.jsalt_annotations,
            JSON_TOKENS + (b'"clip_order"', b'"translation"', b'"paraphrases"', b'"keywords"'),
        ),
        Target(
            "captions",
            read_captions,
            lambda s: [
                _picked(0, seeds.caption_vtt()),
                _picked(1, seeds.caption_srt()),
                _picked(2, seeds.openasl_tsv()),
            ],
            ("signllava/data/captions.py", "signllava/data/registry.py"),
            strategies.caption_files,
            CSV_TOKENS + (b"-->", b"WEBVTT", b"\n\n", b"<v ", b"</i>", b"&amp;", b"00:00:01.000", b"NOTE", b"yid"),
        ),
        Target(
            "jsalt-shards",
            read_jsalt_shards,
            _jsalt_h5_seeds,
            ("pretrain/jsalt.py", "pretrain/features.py", "pretrain/store_writer.py"),
            strategies.jsalt_indexes,
            JSON_TOKENS,
        ),
        Target("pickle", read_pickle, lambda s: seeds.plain_pickles(), ("pose/plain_pickle.py",)),
        Target(
            "config",
            read_config,
            _config_seeds,
            ("pose/config_loader.py", "pose/config.py", "signllava/model/build.py", "signllava/data/streams.py"),
            strategies.configs,
            YAML_TOKENS,
        ),
        Target(
            "profile",
            read_profile,
            lambda s: seeds.profiles(),
            ("signllava/cluster/profiles.py",),
            strategies.profiles,
            YAML_TOKENS,
        ),
        Target(
            "checkpoint",
            read_checkpoint,
            _folder_seeds(seeds.tiny_checkpoint),
            ("signllava/model/checkpoint.py", "pretrain/runtime.py", "signllava/model/build.py"),
            strategies.checkpoints,
            JSON_TOKENS + SAFETENSORS_TOKENS,
        ),
        Target(
            "encoder",
            read_encoder,
            _folder_seeds(seeds.tiny_encoder),
            ("pretrain/build.py", "pretrain/runtime.py"),
            strategies.weight_headers,
            SAFETENSORS_TOKENS + YAML_TOKENS,
        ),
        Target(
            "export",
            read_export,
            _folder_seeds(seeds.tiny_export),
            ("signllava/model/hub.py", "signllava/model/checkpoint.py", "pretrain/runtime.py"),
            strategies.exports,
            JSON_TOKENS + SAFETENSORS_TOKENS,
        ),
        Target("frames", read_frames, _frame_seeds, ("pose/video.py",), None, (b"IHDR", b"IDAT", b"IEND", b"\xff\xd8")),
    )
}
