from __future__ import annotations

import dataclasses

import pytest

from pose import provenance
from pose.config import ExtractConfig, HolisticConfig, VideoConfig
from pose.config_loader import save_config
from pose.errors import InputError


def test_the_holistic_settings_extract_poses_recorded_are_read_back(tmp_path):
    assert provenance.recorded_holistic(tmp_path) is None  # generated poses: nothing recorded
    heavy = ExtractConfig(holistic=HolisticConfig(model_complexity=2), video=VideoConfig(target_fps=30))
    for shard in (0, 1):  # what `extract-poses --shard I --num-shards 2` writes
        shard_config = dataclasses.replace(heavy, shard=shard, num_shards=2)
        save_config(shard_config, tmp_path / f"extract_poses.shard{shard}of2.yaml")
    assert provenance.recorded_holistic(tmp_path) == dataclasses.asdict(HolisticConfig(model_complexity=2))
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
    heavy = {"holistic": dataclasses.asdict(HolisticConfig(model_complexity=2)), "fps": 30.0}
    assert provenance.extraction_settings(heavy) == (HolisticConfig(model_complexity=2), 30.0)
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
