"""The Tasks bundle: built reproducibly from mediapipe 0.10.21's models, loadable, and refused in one line when bad."""

from __future__ import annotations

import json
import sys
import zipfile

import pytest

from pose import task_bundle
from pose.config import HolisticConfig
from pose.errors import InputError
from pose.holistic import HolisticExtractor, prepared, quiet_mediapipe
from pose.holistic_tasks import BundleMismatchWarning
from pose.io import file_sha256

# the bundle built from mediapipe 0.10.21's models on Python 3.11 (schema modules and models of the
# installed 0.10.21) and on Python 3.13 (mediapipe 1.2.3's schema modules, the fetched wheel's models)
BUNDLE_SHA256 = "67af151e02883904b7e958a0a2695b936bfc37f8a7ee13d5fd144ea1aba49efb"


def _model(bundle, member: str):
    tfl, meta = task_bundle._schemas()
    with zipfile.ZipFile(bundle) as zf:
        model = tfl.ModelT.InitFromPackedBuf(bytearray(zf.read(member)), 0)
    entry = next(m for m in model.metadata if m.name == b"TFLITE_METADATA")
    metadata = meta.ModelMetadataT.InitFromPackedBuf(bytearray(bytes(model.buffers[entry.buffer].data)), 0)
    return model, metadata


def test_the_bundle_is_one_flat_uncompressed_zip_with_fixed_dates(tasks_bundle):
    with zipfile.ZipFile(tasks_bundle) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == list(task_bundle.MEMBERS)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}


def test_the_bundle_is_byte_for_byte_the_one_every_install_so_far_built(tasks_bundle):
    assert file_sha256(tasks_bundle) == BUNDLE_SHA256  # else: a new flatbuffers or schema; bump RECIPE


def test_a_rebuild_gives_the_same_bytes(tasks_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tasks_bundle.parent / "cache"))  # the session's sources
    digest, _ = task_bundle.build_bundle(tmp_path / "again.task")
    assert digest == file_sha256(tasks_bundle)


def test_each_model_carries_the_metadata_the_tasks_graph_reads(tasks_bundle):
    for part in task_bundle.PARTS:
        model, metadata = _model(tasks_bundle, part.member)
        graph = metadata.subgraphMetadata[0]
        (image,) = graph.inputTensorMetadata
        norm = image.processUnits[0].options
        assert (list(norm.mean), list(norm.std)) == ([part.mean], [part.std]), part.member
        assert image.content.contentProperties.colorSpace == 1  # RGB
        assert [t.name.decode() for t in graph.outputTensorMetadata] == list(part.outputs)
        assert len(model.subgraphs[0].outputs) == len(part.outputs)
        assert sum(m.name == b"TFLITE_METADATA" for m in model.metadata) == 1


def test_the_face_model_is_padded_to_the_478_points_of_the_tasks_graph(tasks_bundle):
    model, _ = _model(tasks_bundle, "face_landmarks_detector.tflite")
    graph = model.subgraphs[0]
    assert list(graph.tensors[graph.outputs[0]].shape) == [1, 1, 1, 478 * 3]
    last = graph.operators[-1]
    assert model.operatorCodes[last.opcodeIndex].deprecatedBuiltinCode == 34  # PAD
    assert list(graph.tensors[last.inputs[0]].shape) == [1, 1, 1, 468 * 3]  # the legacy model's output


def test_a_source_model_that_is_not_0_10_21s_is_refused():
    with pytest.raises(InputError, match=r"pose_detection.tflite is not mediapipe 0.10.21's model \(sha256 "):
        task_bundle.bundle_bytes(lambda path: b"not a model")


def test_models_are_read_from_the_wheel_when_0_10_21_is_not_installed(tasks_bundle, tmp_path, monkeypatch):
    """A wheel in the cache is used as the pip download would leave it; the bundle equals the session's."""
    cache = tasks_bundle.parent / "cache"
    root = task_bundle.installed_models()
    if root is None:  # the session fixture fetched the wheel into its cache: nothing to imitate
        assert list((cache / "wheels").glob("mediapipe-0.10.21-*.whl"))
        return
    wheels = tmp_path / "cache" / "wheels"
    wheels.mkdir(parents=True)
    with zipfile.ZipFile(wheels / "mediapipe-0.10.21-cp312-cp312-manylinux_2_28_x86_64.whl", "w") as zf:
        for part in task_bundle.PARTS:
            zf.write(root / part.source, part.source)
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(task_bundle, "installed_models", lambda: None)
    digest, where = task_bundle.build_bundle(tmp_path / "from-wheel.task")
    assert where.startswith("mediapipe-0.10.21-") and digest == file_sha256(tasks_bundle)


def test_a_failed_wheel_download_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path))
    monkeypatch.setattr(task_bundle, "installed_models", lambda: None)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # pip cannot run
    with pytest.raises(InputError) as err:
        task_bundle.built_bundle()
    message = str(err.value)
    assert "could not fetch mediapipe 0.10.21's wheel" in message and "pip download mediapipe==0.10.21" in message
    assert "holistic.task_bundle" in message and "\n" not in message
    assert not list(tmp_path.rglob("*.task")) and not list((tmp_path / "wheels").iterdir())


@pytest.mark.slow
def test_the_wheel_is_fetched_from_the_package_registry(tasks_bundle, tmp_path, monkeypatch):
    """The real download (the package registry must answer), into an empty cache."""
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path))
    monkeypatch.setattr(task_bundle, "installed_models", lambda: None)
    path, digest = task_bundle.built_bundle()
    assert list((tmp_path / "wheels").glob("mediapipe-0.10.21-*.whl"))
    assert digest == file_sha256(tasks_bundle)
    assert json.loads((path.parent / "build.json").read_text())["models_from"].startswith("mediapipe-0.10.21-")


def test_the_cached_bundle_is_built_once_and_rebuilt_when_damaged(tasks_bundle, monkeypatch):
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tasks_bundle.parent / "cache"))
    monkeypatch.delenv(task_bundle.ENV_BUNDLE, raising=False)
    path, digest = task_bundle.bundle_for(None)
    assert path.parent == task_bundle.built_folder() and digest == file_sha256(tasks_bundle)
    assert json.loads((path.parent / "build.json").read_text())["sha256"] == digest
    stamp = path.stat().st_mtime_ns
    assert task_bundle.bundle_for(None) == (path, digest) and path.stat().st_mtime_ns == stamp  # not rebuilt
    path.write_bytes(path.read_bytes()[:1000])  # a truncated copy
    assert task_bundle.bundle_for(None) == (path, digest)


def test_a_bundle_of_ones_own_comes_from_the_config_or_the_environment(tasks_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv(task_bundle.ENV_BUNDLE, str(tasks_bundle))
    assert task_bundle.bundle_for(None) == (tasks_bundle, file_sha256(tasks_bundle))
    with pytest.raises(InputError, match="elsewhere.task: Holistic Tasks bundle not found"):
        task_bundle.bundle_for(str(tmp_path / "elsewhere.task"))  # the config's field comes first
    assert not (tmp_path / "empty-cache").exists()  # nothing was built


@pytest.mark.parametrize("kind", ["missing", "not a zip", "no models", "junk models"])
def test_a_bad_bundle_is_one_line_that_says_how_to_get_a_good_one(tmp_path, kind, tasks_bundle):
    bad = tmp_path / "bad.task"
    if kind == "not a zip":
        bad.write_bytes(b"PK? no")
    elif kind == "no models":
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("readme.txt", "hello")
    elif kind == "junk models":
        with zipfile.ZipFile(bad, "w") as zf:
            for member in task_bundle.MEMBERS:
                zf.writestr(member, b"junk" * 100)
    config = HolisticConfig(backend="tasks", task_bundle=str(bad))
    with pytest.raises(InputError) as err, quiet_mediapipe():
        prepared(config)  # what extract-poses and translate check before starting workers
    message = str(err.value)
    assert message.startswith(f"{bad}: ") and "\n" not in message
    expected = {
        "missing": "Holistic Tasks bundle not found; build one with `python -m pose.task_bundle`",
        "not a zip": "not a Holistic Tasks bundle (a .task zip",
        "no models": "not a Holistic Tasks bundle (it lacks pose_detector.tflite, pose_landmarks_detector.tflite",
        "junk models": "MediaPipe cannot load this Holistic Tasks bundle (",
    }[kind]
    assert expected in message


def test_the_recorded_bundle_sha256_is_checked(tasks_bundle, tasks):
    ready = prepared(tasks)
    assert ready.task_bundle_sha256 == file_sha256(tasks_bundle)
    other = HolisticConfig(backend="tasks", task_bundle=str(tasks_bundle), task_bundle_sha256="ab" * 32)
    with pytest.warns(BundleMismatchWarning, match=r"not the one the poses were recorded with \(abababababab\)"):
        with quiet_mediapipe(), HolisticExtractor(other):
            pass


def test_building_from_the_command_line(tmp_path, tasks_bundle, monkeypatch, capsys):
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tasks_bundle.parent / "cache"))
    task_bundle.main(["-o", str(tmp_path / "mine.task")])
    assert f"sha256 {file_sha256(tasks_bundle)}" in capsys.readouterr().out
