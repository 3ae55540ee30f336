"""Input errors: one line that names the file, and the same error back from a worker process."""

from __future__ import annotations

import pickle
from pathlib import Path

from pose.errors import InputError, VideoError


def test_the_message_is_one_line_naming_the_file():
    err = InputError(Path("data/clip.mp4"), "not a readable video\n  (moov atom not found)")
    assert str(err) == "data/clip.mp4: not a readable video (moov atom not found)"
    assert (err.path, err.problem) == ("data/clip.mp4", "not a readable video (moov atom not found)")
    assert str(InputError(None, "config value x=1 is invalid")) == "config value x=1 is invalid"
    assert InputError("", "no file").path == "" and str(InputError("", "no file")) == "no file"


def test_errors_survive_pickling_with_their_class():
    for err in (InputError("a.pose", "pose file not found"), VideoError("b.mp4", "empty file"), InputError(None, "x")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err) and back.path == err.path
    assert isinstance(VideoError("b.mp4", "empty file"), InputError)  # the CLI catches one class


def test_an_excerpt_is_one_short_line():
    from pose.errors import excerpt

    assert excerpt("a  b\n c") == "a b c"
    long = excerpt("x" * 400_000)
    assert len(long) == 80 and long.endswith("…")
    assert excerpt("word " * 10, limit=12) == "word word w…"


def test_a_problem_quoting_a_whole_file_is_clipped():
    err = InputError("big.json", "cannot read " + '{"videos": 1} ' * 100_000)
    assert len(err.problem) <= 1000 and err.problem.endswith("…") and "\n" not in str(err)


def test_a_quoted_value_reads_as_repr_and_is_clipped():
    from pose.errors import quoted

    assert quoted("fast") == "'fast'" and quoted(1.5) == "1.5" and quoted(["a"]) == "['a']"
    long = quoted("x" * 10_000)
    assert long.startswith("'xxx") and long.endswith("…'") and len(long) == 80
    assert len(quoted(list(range(10_000)))) <= 80
