from __future__ import annotations

import os

import pytest

from pose.io import atomic_folder, recover_folder, remove_partials


def test_atomic_folder_replaces_only_when_complete(tmp_path):
    target = tmp_path / "ckpt"
    with atomic_folder(target) as tmp:
        (tmp / "a").write_text("1")
    assert (target / "a").read_text() == "1"
    with pytest.raises(RuntimeError), atomic_folder(target) as tmp:
        (tmp / "a").write_text("2")
        raise RuntimeError("killed")
    assert (target / "a").read_text() == "1" and sorted(os.listdir(tmp_path)) == ["ckpt"]
    with atomic_folder(target, keep_existing=True) as tmp:
        (tmp / "a").write_text("3")
    assert (target / "a").read_text() == "1" and sorted(os.listdir(tmp_path)) == ["ckpt"]
    assert remove_partials(tmp_path) == 0  # folders are never touched by the .pose cleanup


def test_recover_a_swap_cut_in_half(tmp_path):
    target = tmp_path / "last"
    parked = tmp_path / ".old-last"
    parked.mkdir()
    (parked / "w").write_text("previous")
    assert (recover_folder(target) / "w").read_text() == "previous" and not parked.exists()
