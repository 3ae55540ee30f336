"""Pickles from elsewhere are read without running their code: plain data only, or stand-ins."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from pose.errors import InputError
from pose.plain_pickle import Opaque, loads_plain
from tests.conftest import Payload


class Thing:
    def __init__(self):
        self.x = 1


def test_plain_data_reads_back_as_it_was():
    data = ("success", {"steps": 3, "loss": [1.5, 0.25], "name": "é", "raw": b"\x00", "none": None, "s": {1}})
    assert loads_plain(pickle.dumps(data), "r.pkl") == data


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_payload_is_refused_and_never_runs(tmp_path, protocol):
    marker = tmp_path / "ran"
    blob = pickle.dumps(("success", Payload(marker)), protocol=protocol)
    with pytest.raises(InputError, match=r"^r\.pkl: not read: it names (posix|os|nt)\.system, and only plain data"):
        loads_plain(blob, "r.pkl")
    outcome, value = loads_plain(blob, "r.pkl", inert=True)  # its plain parts, the rest a stand-in
    assert outcome == "success" and isinstance(value, Opaque) and value.name.endswith(".system")
    assert not marker.exists()
    pickle.loads(blob)  # the check is real: an ordinary unpickler runs it
    assert marker.exists()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_objects_become_stand_ins_that_carry_only_their_names(protocol):
    value = loads_plain(pickle.dumps({"t": Thing(), "p": Path("/x")}, protocol=protocol), "r.pkl", inert=True)
    assert isinstance(value["t"], Opaque) and not hasattr(value["t"], "x")
    assert repr(value["p"]).endswith("Path, not loaded>") or "reconstructor" in repr(value["p"])


@pytest.mark.parametrize("blob", [b"", b"junk", pickle.dumps([1, 2, 3])[:6]])
def test_damaged_pickles_are_one_line(blob):
    with pytest.raises(InputError, match=r"^r\.pkl: not") as err:
        loads_plain(blob, "r.pkl")
    assert "\n" not in str(err.value)


def test_a_pickle_that_names_a_huge_memo_index_is_refused_without_taking_the_memory():
    """Found by fuzzing: a few bytes asking to remember an object at index 50,000,000 made the C unpickler size its
    memo to that (400 MB here; gigabytes for a larger index) before anything failed."""
    import tracemalloc

    blob = b"\x80\x04]r" + (50_000_000).to_bytes(4, "little") + b"\xfe."  # EMPTY_LIST, LONG_BINPUT, junk
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"^r\.pkl: not a readable pickle"):
            loads_plain(blob, "r.pkl")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_a_bytearray_longer_than_its_file_is_refused_before_it_is_made():
    """Found by benchmarks/fuzz.py (pickle and csl-daily, out of memory): Python's unpickler too makes a zeroed
    bytearray of the length BYTEARRAY8 declares before reading it; 2 GB here, 7 GB in the input it found."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"^r\.pkl: not read: a bytearray of 2147483648 bytes in a file of 12"):
            loads_plain(b"\x80\x05\x96" + (2**31).to_bytes(8, "little") + b".", "r.pkl")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000
    assert loads_plain(pickle.dumps(bytearray(b"abc"), protocol=5), "r.pkl") == bytearray(b"abc")
    with pytest.raises(InputError, match="the file ends inside a bytearray"):
        loads_plain(b"\x80\x05\x96" + (10).to_bytes(8, "little") + b"abc", "r.pkl")  # 10 declared, 3 there


@pytest.mark.parametrize("size", [2**64 - 1, 2**62])  # larger than any address space; larger than memory
def test_any_error_of_a_damaged_pickle_is_one_line(size):
    """Found by fuzzing: a damaged pickle raises whatever its broken opcode raises (OverflowError, MemoryError)."""
    blob = b"\x80\x05\x96" + size.to_bytes(8, "little") + b"."  # BYTEARRAY8 of that many bytes
    with pytest.raises(InputError, match=r"^r\.pkl: not") as err:
        loads_plain(blob, "r.pkl")
    assert "\n" not in str(err.value)
