"""The model bundle of MediaPipe's Tasks ``HolisticLandmarker``, built offline from mediapipe 0.10.21's models.

The Tasks API wants a ``holistic_landmarker.task`` file, which Google publishes only for download from
its own storage, and mediapipe releases after 0.10.21 ship no models. The models themselves are in the
0.10.21 wheel (the legacy Holistic graph runs them), so the bundle is assembled from there: one flat
zip whose member names are the constants of mediapipe's ``holistic_landmarker_graph.cc``. Each model
gets the TFLite metadata the Tasks graph reads (an RGB image input normalized as the legacy graph
normalizes it, one named entry per output), and the face model's 468 points are padded to the 478
the Tasks graph expects (points 468-477 are zeros, dropped by :mod:`pose.holistic`).

The models are read from the installed mediapipe 0.10.21 when there is one, else from its wheel,
fetched once into the cache with ``pip download`` (any Python, nothing installed). Each source model
is checked against its sha256 and the zip is written with fixed timestamps and order, so a build is
reproducible: the same sources and schema give the same bytes. Build it by hand with
``python -m pose.task_bundle``; ``holistic.task_bundle`` or ``$SIGNLLAVA_HOLISTIC_TASK`` points at
a bundle of one's own instead (e.g. Google's official one).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import MESSAGE, InputError, excerpt
from .io import TMP_PREFIX, atomic_folder, atomic_output, file_sha256

SOURCE_RELEASE = "0.10.21"
RECIPE = 1  # bump whenever the build below changes the bundle's bytes
BUNDLE_NAME = "holistic_landmarker.task"
ENV_BUNDLE = "SIGNLLAVA_HOLISTIC_TASK"
# any platform's wheel holds the same models; the x86-64 Linux one exists for every CPython 3.9-3.12
WHEEL_PLATFORM, WHEEL_PYTHON = "manylinux_2_28_x86_64", "3.12"
FACE_POINTS_TASKS = 478  # what the Tasks face landmarks graph reads from its model
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp: no build time in the bytes


@dataclass(frozen=True)
class Part:
    """One model of the bundle. ``mean``/``std``: the input normalization, (pixel - mean) / std,
    from the legacy graph's ``output_tensor_float_range`` ([-1, 1] -> 127.5, 127.5; [0, 1] -> 0, 255)."""

    member: str  # name inside the bundle
    source: str  # path inside the 0.10.21 wheel
    sha256: str  # of the source model
    mean: float
    std: float
    outputs: tuple[str, ...]  # the model's output tensors, in order
    pad_first_output_to: int | None = None


PARTS = (
    Part(
        "pose_detector.tflite",
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
        127.5,
        127.5,
        ("raw boxes/keypoints", "scores"),
    ),
    Part(
        "pose_landmarks_detector.tflite",
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        0.0,
        255.0,
        ("landmarks", "pose presence", "segmentation", "heatmap", "world landmarks"),
    ),
    Part(
        "face_detector.tflite",
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
        127.5,
        127.5,
        ("raw boxes/keypoints", "scores"),
    ),
    Part(
        "face_landmarks_detector.tflite",
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
        0.0,
        255.0,
        ("landmarks", "face presence"),
        pad_first_output_to=FACE_POINTS_TASKS * 3,
    ),
    Part(
        "hand_landmarks_detector.tflite",
        "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
        "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
        0.0,
        255.0,
        ("landmarks", "hand presence", "handedness", "world landmarks"),
    ),
    Part(
        "hand_roi_refinement.tflite",
        "mediapipe/modules/holistic_landmark/hand_recrop.tflite",
        "67d996ce96f9d36fe17d2693022c6da93168026ab2f028f9e2365398d8ac7d5d",
        0.0,
        255.0,
        ("crop",),
    ),
)
MEMBERS = tuple(p.member for p in PARTS)
SUPPLY = f"give your own with holistic.task_bundle or ${ENV_BUNDLE}"
HOW_TO_BUILD = f"build one with `python -m pose.task_bundle`, or {SUPPLY}"


def cache_root() -> Path:
    """SignLLaVA's cache folder (``$SIGNLLAVA_CACHE``, else ``~/.cache/signllava``)."""
    return Path(os.environ.get("SIGNLLAVA_CACHE", Path.home() / ".cache" / "signllava"))


# --- the TFLite edits ----------------------------------------------------------------------------


def _schemas():
    # the schema modules ship in every mediapipe since 0.10 (its own metadata writer needs a native
    # module that 1.x lacks, so the metadata is written with flatbuffers directly)
    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    return tfl, meta


def _metadata(part: Part) -> bytes:
    """The TFLite metadata flatbuffer the Tasks graph reads: RGB image input, its normalization, outputs."""
    import flatbuffers

    _, meta = _schemas()
    norm = meta.NormalizationOptionsT()
    norm.mean, norm.std = [part.mean], [part.std]
    unit = meta.ProcessUnitT()
    unit.optionsType, unit.options = meta.ProcessUnitOptions.NormalizationOptions, norm
    props = meta.ImagePropertiesT()
    props.colorSpace = meta.ColorSpaceType.RGB
    content = meta.ContentT()
    content.contentPropertiesType, content.contentProperties = meta.ContentProperties.ImageProperties, props
    stats = meta.StatsT()
    stats.min, stats.max = [(0.0 - part.mean) / part.std], [(255.0 - part.mean) / part.std]
    image = meta.TensorMetadataT()
    image.name, image.content, image.processUnits, image.stats = "image", content, [unit], stats
    outputs = []
    for name in part.outputs:
        tensor = meta.TensorMetadataT()
        tensor.name = name
        outputs.append(tensor)
    subgraph = meta.SubGraphMetadataT()
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [image], outputs
    model = meta.ModelMetadataT()
    model.name, model.subgraphMetadata, model.minParserVersion = Path(part.member).stem, [subgraph], "1.0.0"
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"M001")
    return bytes(builder.Output())


def _buffer(tfl, data: bytes):
    import numpy as np

    buffer = tfl.BufferT()
    buffer.data = np.frombuffer(data, np.uint8) if data else None
    return buffer


def _pad_first_output(tfl, model, size: int) -> None:
    """Append a PAD op that zero-pads the model's first output (its last axis) to ``size`` values."""
    import numpy as np

    graph = model.subgraphs[0]
    out = graph.tensors[graph.outputs[0]]
    extra = size - int(out.shape[-1])
    if extra < 0:
        raise ValueError(f"output {out.name!r} has {out.shape[-1]} values, more than {size}")
    pad_code = tfl.BuiltinOperator.PAD
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    if pad_code not in codes:
        code = tfl.OperatorCodeT()
        code.builtinCode, code.deprecatedBuiltinCode, code.version = pad_code, pad_code, 1
        model.operatorCodes.append(code)
        codes.append(pad_code)
    paddings = np.zeros((len(out.shape), 2), np.int32)
    paddings[-1, 1] = extra
    model.buffers.append(_buffer(tfl, paddings.tobytes()))
    pad_tensor = tfl.TensorT()
    pad_tensor.shape, pad_tensor.type = list(paddings.shape), tfl.TensorType.INT32
    pad_tensor.buffer = len(model.buffers) - 1
    pad_tensor.name = b"padding_to_" + str(size).encode()
    model.buffers.append(_buffer(tfl, b""))
    padded = tfl.TensorT()
    padded.shape, padded.type, padded.buffer = [*list(out.shape[:-1]), size], out.type, len(model.buffers) - 1
    padded.name = out.name + b"_padded"
    graph.tensors += [pad_tensor, padded]
    op = tfl.OperatorT()
    op.opcodeIndex = codes.index(pad_code)
    op.inputs, op.outputs = [graph.outputs[0], len(graph.tensors) - 2], [len(graph.tensors) - 1]
    op.builtinOptionsType, op.builtinOptions = tfl.BuiltinOptions.PadOptions, tfl.PadOptionsT()
    graph.operators.append(op)
    graph.outputs = [len(graph.tensors) - 1, *list(graph.outputs[1:])]


def prepare_model(part: Part, source: bytes) -> bytes:
    """One source model as the bundle holds it: padded where needed, with our metadata (replacing any)."""
    import flatbuffers

    tfl, _ = _schemas()
    model = tfl.ModelT.InitFromPackedBuf(bytearray(source), 0)
    graph = model.subgraphs[0]
    if len(graph.outputs) != len(part.outputs):
        raise ValueError(f"{part.source}: {len(graph.outputs)} outputs, expected {len(part.outputs)}")
    if part.pad_first_output_to:
        _pad_first_output(tfl, model, part.pad_first_output_to)
    model.metadata = [m for m in (model.metadata or []) if m.name != b"TFLITE_METADATA"]
    model.buffers.append(_buffer(tfl, _metadata(part)))
    entry = tfl.MetadataT()
    entry.name, entry.buffer = b"TFLITE_METADATA", len(model.buffers) - 1
    model.metadata.append(entry)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def bundle_bytes(read: Callable[[str], bytes]) -> bytes:
    """The bundle as bytes, from ``read(path inside the 0.10.21 wheel)``; a source model whose
    sha256 is not the expected one is refused."""
    import hashlib

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:  # MediaPipe reads uncompressed members
        for part in PARTS:
            source = read(part.source)
            digest = hashlib.sha256(source).hexdigest()
            if digest != part.sha256:
                why = f"{part.source} is not mediapipe {SOURCE_RELEASE}'s model (sha256 {digest[:12]}…)"
                raise InputError(None, why)
            info = zipfile.ZipInfo(part.member, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            zf.writestr(info, prepare_model(part, source))
    return out.getvalue()


# --- where the source models come from -----------------------------------------------------------


def installed_models() -> Path | None:
    """The site-packages folder of an installed mediapipe that holds the 0.10.21 models, if any
    (found without importing mediapipe)."""
    import importlib.util

    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(spec.submodule_search_locations[0]).parent
    ok = all((root / p.source).is_file() and file_sha256(root / p.source) == p.sha256 for p in PARTS)
    return root if ok else None


def wheel_folder() -> Path:
    return cache_root() / "wheels"


def fetch_wheel(folder: Path | None = None) -> Path:
    """mediapipe 0.10.21's wheel in ``folder`` (default the cache's ``wheels/``), downloaded from the
    package registry with pip when it is not there yet (nothing is installed)."""
    folder = folder or wheel_folder()
    pattern = f"mediapipe-{SOURCE_RELEASE}-*.whl"
    found = sorted(folder.glob(pattern))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", f"mediapipe=={SOURCE_RELEASE}", "--no-deps"]
    cmd += ["--only-binary=:all:", "--python-version", WHEEL_PYTHON, "--platform", WHEEL_PLATFORM]
    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX, dir=folder) as tmp:  # no half wheel is ever found
        done = subprocess.run([*cmd, "-d", tmp], capture_output=True, text=True)
        wheels = sorted(Path(tmp).glob(pattern))
        if done.returncode != 0 or not wheels:
            why = (done.stderr.strip().splitlines() or ["pip saved no wheel"])[-1]
            raise InputError(
                None,
                f"could not fetch mediapipe {SOURCE_RELEASE}'s wheel to build the Holistic Tasks bundle ({why}); "
                f"put it in {folder} (`{' '.join(cmd[2:])}`), or {SUPPLY}",
            )
        os.replace(wheels[0], folder / wheels[0].name)
    return folder / wheels[0].name


def model_reader() -> tuple[Callable[[str], bytes], str]:
    """``(read, where)``: reads source models from the installed mediapipe 0.10.21, else its wheel."""
    root = installed_models()
    if root is not None:
        return (lambda path: (root / path).read_bytes()), f"installed mediapipe {SOURCE_RELEASE}"
    wheel = fetch_wheel()

    def read(path: str) -> bytes:
        with zipfile.ZipFile(wheel) as zf:
            return zf.read(path)

    return read, wheel.name


# --- the built bundle in the cache ---------------------------------------------------------------


def built_folder() -> Path:
    return cache_root() / "holistic_landmarker" / f"mediapipe-{SOURCE_RELEASE}-r{RECIPE}"


def build_bundle(path: str | os.PathLike) -> tuple[str, str]:
    """Build the bundle at ``path`` (atomically); return its sha256 and where the models came from."""
    read, where = model_reader()
    data = bundle_bytes(read)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return file_sha256(path), where


def built_bundle() -> tuple[Path, str]:
    """The bundle built into the cache (built now if missing or damaged) and its sha256. Its
    ``build.json`` records the sha256; a file that no longer matches it is rebuilt."""
    folder = built_folder()
    path, record = folder / BUNDLE_NAME, folder / "build.json"
    if path.is_file() and record.is_file():
        try:
            expected = json.loads(record.read_text()).get("sha256")
        except ValueError:
            expected = None
        digest = file_sha256(path)
        if digest == expected:
            return path, digest
    with atomic_folder(folder) as tmp:  # two processes building at once each write a whole folder
        digest, where = build_bundle(tmp / BUNDLE_NAME)
        sources = {p.member: p.sha256 for p in PARTS}
        info = {"sha256": digest, "recipe": RECIPE, "models_from": where, "sources": sources}
        (tmp / "build.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    return path, digest


def check_bundle(path: str | os.PathLike) -> Path:
    """A user-supplied bundle: a readable zip holding the models the Tasks graph loads, or a one-line error."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(path, f"Holistic Tasks bundle not found; {HOW_TO_BUILD}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as err:
        raise InputError(
            path, f"not a Holistic Tasks bundle (a .task zip: {excerpt(err, MESSAGE)}); {HOW_TO_BUILD}"
        ) from err
    missing = [m for m in MEMBERS if m not in names]
    if missing:
        raise InputError(path, f"not a Holistic Tasks bundle (it lacks {', '.join(missing)}); {HOW_TO_BUILD}")
    return path


def bundle_for(task_bundle: str | None) -> tuple[Path, str]:
    """``(path, sha256)`` of the bundle to run: ``task_bundle``, else ``$SIGNLLAVA_HOLISTIC_TASK``, else
    the one built into the cache."""
    given = task_bundle or os.environ.get(ENV_BUNDLE)
    if given:
        path = check_bundle(given)
        return path, file_sha256(path)
    return built_bundle()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pose.task_bundle", description=__doc__.split("\n\n")[0])
    where = f"write the bundle here (default: the cache, {built_folder()})"
    parser.add_argument("-o", "--output", type=Path, help=where)
    args = parser.parse_args(argv)
    try:
        if args.output:
            digest, where = build_bundle(args.output)
            path = args.output
        else:
            path, digest = built_bundle()
            where = json.loads((path.parent / "build.json").read_text())["models_from"]
    except InputError as err:
        raise SystemExit(f"error: {err}") from None
    print(f"{path}  sha256 {digest}  (models from {where})")


if __name__ == "__main__":
    main()
