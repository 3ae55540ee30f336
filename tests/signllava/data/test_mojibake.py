"""Mojibake in How2Sign metadata: both forms repaired, well-formed text left exactly as it is."""

from __future__ import annotations

import csv
import io
import re

import pytest

from signllava.data.how2sign import fix_mojibake, read_realigned
from tests.conftest import realdata

C1 = re.compile("[\u0080-\u009f]")
HEADER = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE"


def test_both_forms_are_repaired():
    right = "my horse’s nose"
    as_cp1252 = right.encode("utf-8").decode("cp1252")  # 'â€™'
    as_latin1 = right.encode("utf-8").decode("latin-1")  # 'â' + U+0080 U+0099
    assert as_cp1252 == "my horseâ€™s nose" and as_latin1 == "my horseâ\x80\x99s nose"
    assert fix_mojibake(as_cp1252) == right and fix_mojibake(as_latin1) == right
    for text in ("Ã©tÃ© cafÃ©", "â€œquotedâ€\x9d"):
        assert not C1.search(fix_mojibake(text)) and "Ã" not in fix_mojibake(text) and "â€" not in fix_mojibake(text)


@pytest.mark.parametrize(
    "text",
    [
        "naïve café, résumé",
        "“curly” ‘quotes’ and it’s",  # ftfy's default would straighten these
        "ﬁne ligature",  # ... spell out this ligature
        "ＡＳＬ full width",  # ... narrow these
        "Tom &amp; Jerry",  # ... unescape this
        "e\u0301 combining accent",  # ... NFC-normalize this
        "½ cup – 3 × 4 — done…",
        "plain ASCII, with 'quotes' and \"doubles\"",
    ],
)
def test_well_formed_text_is_unchanged(text):
    assert fix_mojibake(text) == text


def test_a_file_with_both_forms(tmp_path):
    rows = ["v\tv-1\tv_0\tv_0-1\t0\t1\tDon’t stop", "v\tv-1\tv_1\tv_1-1\t1\t2\tIt’s a horse’s nose"]
    text = "\r\n".join([HEADER, *rows]) + "\r\n"
    cp1252 = text.replace("Don’t", "Don’t".encode().decode("cp1252"))
    both = cp1252.replace("horse’s", "horse’s".encode().decode("latin-1"))
    path = tmp_path / "m_val.csv"
    path.write_bytes(both.encode("utf-8"))
    assert [s.text for s in read_realigned(path)[0]] == ["Don’t stop", "It’s a horse’s nose"]


def raw_sentences(path) -> dict[str, str]:
    """SENTENCE per SENTENCE_NAME as the file holds it (decoded, nothing repaired)."""
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""), delimiter="\t")
    return {r["SENTENCE_NAME"].strip(): r["SENTENCE"].strip() for r in rows}


@pytest.mark.parametrize("name", ["how2sign_realigned_val.csv", "how2sign_realigned_test.csv"])
def test_real_files_repaired_and_otherwise_unchanged(name):
    path = realdata("how2sign_metadata", name)
    raw = raw_sentences(path)
    read = {s.sentence_name: s.text for s in read_realigned(path)[0]}
    assert read.keys() == raw.keys()
    assert not [n for n, t in read.items() if C1.search(t)]
    changed = {n: (raw[n], read[n]) for n in read if read[n] != raw[n]}
    # only sentences that carry mojibake change
    assert all(C1.search(before) or "â€" in before or "Ã" in before for before, _ in changed.values())
    if name.endswith("_val.csv"):  # the official val file has the Latin-1 form in two sentences
        assert sorted(changed) == ["5RR7dlzkyL0_1-5-rgb_front", "cS44xaCZy7A_1-8-rgb_front"]
        assert "non-verbal’s" in read["5RR7dlzkyL0_1-5-rgb_front"]
        assert "my horse’s nose" in read["cS44xaCZy7A_1-8-rgb_front"]
    else:
        assert not changed
