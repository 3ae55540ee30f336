"""The feature store's shared format rules: names that become file names, clip checks, part indexes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pose.errors import InputError
from pretrain.store_format import FORMAT, check_name, committed_parts, read_part_index, validate_clip


def test_names_are_safe_file_names():
    for name in ("pose", "job0-00001", "a.b+c_d", "9", "x" * 200):
        assert check_name("shard", name) == name
    for bad in ("", ".hidden", "-flag", "a/b", "a b", "x" * 201, None, 3):
        with pytest.raises(InputError, match=r"^shard name .* must be 1-200 letters, digits or _ \. \+ -"):
            check_name("shard", bad)


def test_clips_become_contiguous_float16_or_a_one_line_error_naming_them():
    out = validate_clip("s", "c", np.arange(12, dtype=np.int64).reshape(3, 4).T, 3)  # ints, Fortran order
    assert out.dtype == np.float16 and out.flags.c_contiguous and out.tolist() == np.arange(12).reshape(3, 4).T.tolist()
    assert validate_clip("s", "c", [[1.5, 2.0]], None).shape == (1, 2)  # any dim while the stream has none yet
    for clip in ("", None):
        with pytest.raises(InputError, match="stream 's': clip names must be non-empty strings"):
            validate_clip("s", clip, np.zeros((1, 2)), None)
    for features, problem in [
        (np.zeros((2, 3)), "features have dim 3 but the stream's dim is 4"),
        (np.zeros(4), "must be 2-D (frames, dim), got shape (4,)"),
        ({"a": 1}, "must be a numeric array, got dict"),
        (np.array([[70000.0, 0, 0, 0]]), "1 values are NaN or infinite (after conversion to float16)"),
    ]:
        with pytest.raises(InputError) as err:
            validate_clip("s", "c", features, 4)
        assert str(err.value).startswith("stream 's', clip 'c': ") and problem in str(err.value)


def test_committed_parts_skip_writers_temporary_files(tmp_path):
    assert committed_parts(tmp_path / "none") == []
    for name in ("b-00000.json", "a-00001.json", "a-00000.npy", ".tmp-a-00002.json", "notes.txt"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in committed_parts(tmp_path)] == ["a-00001.json", "b-00000.json"]


def test_a_part_index_is_checked_before_it_is_trusted(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"format": FORMAT, "stream": "pose", "clips": {"c": [0, 5]}}))
    assert read_part_index(good, "pose")["clips"] == {"c": [0, 5]}
    with pytest.raises(InputError, match=r"good.json: shard belongs to stream 'pose', not 'mae'"):
        read_part_index(good, "mae")
    cases = {
        "{broken": "not a readable feature shard index (JSONDecodeError",
        "[1, 2]": "not a readable feature shard index (AttributeError",
        json.dumps({"format": "other/2", "stream": "pose", "clips": {}}): "not a feature shard index (expected format",
        json.dumps({"format": FORMAT, "stream": "pose", "clips": []}): "not a feature shard index",
    }
    for text, problem in cases.items():
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(InputError) as err:
            read_part_index(bad, "pose")
        assert str(err.value).startswith(f"{bad}: {problem}") and "\n" not in str(err.value)
    with pytest.raises(InputError, match="gone.json: not a readable feature shard index"):
        read_part_index(tmp_path / "gone.json", "pose")
