from __future__ import annotations

import dataclasses
import warnings

import pytest

from pose import provenance
from pose.config import ExtractConfig, HolisticConfig, VideoConfig
from pose.config_loader import save_config
from pose.errors import InputError


def test_the_holistic_settings_extract_poses_recorded_are_read_back(tmp_path):
    assert provenance.recorded_holistic(tmp_path) is None  # generated poses: nothing recorded
    heavy = ExtractConfig(holistic=HolisticConfig("legacy", model_complexity=2), video=VideoConfig(target_fps=30))
    for shard in (0, 1):  # what `extract-poses --shard I --num-shards 2` writes
        shard_config = dataclasses.replace(heavy, shard=shard, num_shards=2)
        save_config(shard_config, tmp_path / f"extract_poses.shard{shard}of2.yaml")
    assert provenance.recorded_holistic(tmp_path) == dataclasses.asdict(HolisticConfig("legacy", model_complexity=2))
    save_config(ExtractConfig(), tmp_path / "extract_poses.yaml")  # a third run with other settings
    with pytest.warns(UserWarning, match="different Holistic settings"):
        assert provenance.recorded_holistic(tmp_path) is None
    (tmp_path / "extract_poses.yaml").write_text("holistic: {model_complexity: 7}\n")
    with pytest.raises(InputError, match=r"extract_poses.yaml: unreadable extraction config .*model_complexity=7"):
        provenance.recorded_holistic(tmp_path)


def test_records_round_trip_and_give_the_extraction_settings(tmp_path):
    record = provenance.record_for(None, [25.0, 24.0, 25.0, 29.97])
    assert record == {"holistic": None, "fps": 25.0}  # the median clip's frame rate
    assert provenance.record_for(None, []) == {"holistic": None, "fps": None}
    provenance.write_record(tmp_path, record)
    assert provenance.read_record(tmp_path) == record and provenance.read_record(tmp_path / "none") is None
    assert provenance.extraction_settings(record) == (None, 25.0)
    assert provenance.extraction_settings(None) == (None, None)
    strict = HolisticConfig(min_detection_confidence=0.7)  # a setting both backends have
    assert provenance.extraction_settings({"holistic": dataclasses.asdict(strict), "fps": 30.0}) == (strict, 30.0)
    with pytest.raises(InputError, match=r"meta.json: corrupt pose record .*'fps': 'fast'"):
        provenance.extraction_settings({"holistic": None, "fps": "fast"}, "meta.json")
    (tmp_path / provenance.RECORD).write_text("{not json")
    with pytest.raises(InputError, match="poses.json: corrupt pose record"):
        provenance.read_record(tmp_path)


def test_a_models_streams_get_one_record():
    a, b = {"holistic": None, "fps": 25.0}, {"holistic": None, "fps": 30.0}
    assert provenance.merged([None, a, {"holistic": None, "fps": None}]) == a
    assert provenance.merged([None]) is None
    with pytest.warns(UserWarning, match="made differently"):
        assert provenance.merged([a, b]) == a


def test_records_name_the_backend_and_old_ones_are_the_legacy_graphs(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "backend_installed", lambda backend: True)  # no fallback to the other one
    tasks = HolisticConfig(backend="tasks", task_bundle_sha256="cd" * 32)
    save_config(ExtractConfig(holistic=tasks), tmp_path / "extract_poses.yaml")
    assert provenance.recorded_holistic(tmp_path) == dataclasses.asdict(tasks)
    (tmp_path / "extract_poses.yaml").write_text("holistic: {model_complexity: 1}\n")  # written before the choice
    assert provenance.recorded_holistic(tmp_path)["backend"] == "legacy"
    before = {"holistic": {"model_complexity": 1, "smooth_landmarks": True}, "fps": 25.0}
    assert provenance.extraction_settings(before)[0].backend == "legacy"


def test_a_model_given_the_other_backends_poses_warns(monkeypatch):
    legacy, tasks = HolisticConfig(backend="legacy"), HolisticConfig(backend="tasks")
    with pytest.warns(provenance.PoseBackendWarning, match="poses of the legacy MediaPipe backend but gets tasks"):
        provenance.warn_other_backend(legacy, tasks)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        provenance.warn_other_backend(tasks, tasks)
        provenance.warn_other_backend(None, tasks)  # nothing recorded: nothing to compare
    # where the recorded backend is not installed (Python 3.13 has no legacy graph), the other one runs
    monkeypatch.setattr(provenance, "backend_installed", lambda backend: backend == "tasks")
    record = {"holistic": dataclasses.asdict(legacy), "fps": 25.0}
    with pytest.warns(provenance.PoseBackendWarning, match="the legacy backend is not installed here"):
        assert provenance.extraction_settings(record) == (tasks, 25.0)
    heavy = {"holistic": dataclasses.asdict(HolisticConfig(backend="legacy", model_complexity=2)), "fps": 25.0}
    with pytest.raises(InputError, match=r"meta.json: the model's poses were made with the legacy backend, not inst"):
        provenance.extraction_settings(heavy, "meta.json")


def test_a_bundle_path_from_another_machine_is_dropped_but_its_sha256_kept(tmp_path):
    mine = tmp_path / "mine.task"
    mine.write_bytes(b"")
    for path, kept in ((mine, str(mine)), (tmp_path / "gone.task", None)):
        recorded = HolisticConfig(backend="tasks", task_bundle=str(path), task_bundle_sha256="ef" * 32)
        holistic, _ = provenance.extraction_settings({"holistic": dataclasses.asdict(recorded), "fps": 24.0})
        assert holistic.task_bundle == kept and holistic.task_bundle_sha256 == "ef" * 32
