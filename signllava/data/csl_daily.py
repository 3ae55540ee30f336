"""CSL-Daily (Chinese Sign Language -> Chinese) from the files its release ships.

The annotations come as a table, ``video_map.txt`` (``|``-separated; ``gloss``, ``char``, ``word`` and
``postag`` are space-separated tokens)::

    index|name|length|gloss|char|word|postag
    0|S000000_P0000_T00|92|他 家 有 什么|他 家 里 有 什 么 ？|他 家里 有 什么 ？|r n v r w

or as the pickle ``csl2020ct_v2.pkl`` (``{"info": [{"name", "length", "label_gloss", "label_char",
"label_word", ...}, ...], "gloss_map": [...], ...}``), and the split as ``split_1.txt`` (``name|split``, the
splits ``train``/``dev``/``test``; ``dev`` is our ``val``). Give the annotation file and the split file
(a split file beside the annotations, ``split_1.txt``, is found on its own). Each sentence is a whole clip:
its video is the folder of JPEG frames ``<name>/000000.jpg ...`` (extract it with ``--fps 25`` as a
frame folder: ``extract-poses sentence/frames_512x512 -o poses/``). The reference is the sentence's
characters joined (Chinese is written without spaces; metrics tokenize it with sacreBLEU's ``zh``), the
glosses feed the gloss CTC head.

Pickles can run code when loaded: the annotation pickle is read with :mod:`pose.plain_pickle`, which
admits plain data only (lists, dicts, strings, numbers) and refuses anything else in one line.

Context: CSL-Daily's sentences are independent (everyday sentences, each signed by several signers:
``S<sentence>_P<signer>_T<take>``), so none is another's context: each is its own "video".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pose.errors import InputError
from pose.plain_pickle import loads_plain

from .registry import Dataset, register, untimed_report
from .samples import CheckReport, Dropped, Sentence

TABLE_COLUMNS = ("index", "name", "length", "gloss", "char", "word", "postag")
SPLIT_COLUMNS = ("name", "split")
SPLIT_FILE = "split_1.txt"
PICKLE_SUFFIX = ".pkl"
SPLITS = {"train": "train", "dev": "val", "val": "val", "test": "test"}


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        return [c.strip() for c in f.readline().split("|")]


def is_annotation(path: Path) -> bool:
    if not path.is_file():
        return False
    if path.suffix.lower() == PICKLE_SUFFIX:  # its layout is checked when read (plain data only)
        return True
    return _header(path) in (list(TABLE_COLUMNS), list(SPLIT_COLUMNS))


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None


def read_splits(path: Path) -> tuple[dict[str, str], list[Dropped]]:
    """``name -> split`` from a split file, and its rows that could not be used."""
    lines = _text(path).splitlines()
    if not lines or [c.strip() for c in lines[0].split("|")] != list(SPLIT_COLUMNS):
        raise InputError(path, f"not a CSL-Daily split file: its header must be {'|'.join(SPLIT_COLUMNS)}")
    splits, bad = {}, []
    for row_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 2 or fields[1] not in SPLITS:
            bad.append(Dropped(fields[0] or "?", f"malformed split row: {line[:60]!r}", row_no, str(path)))
            continue
        splits[fields[0]] = SPLITS[fields[1]]
    return splits, bad


def read_table(path: Path) -> tuple[list[dict], list[Dropped]]:
    """The annotation rows of ``video_map.txt`` as ``{name, gloss, char}`` entries, and its malformed rows."""
    lines = _text(path).splitlines()
    if not lines or [c.strip() for c in lines[0].split("|")] != list(TABLE_COLUMNS):
        raise InputError(path, f"not a CSL-Daily annotation table: its header must be {'|'.join(TABLE_COLUMNS)}")
    rows, bad = [], []
    for row_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != len(TABLE_COLUMNS):
            reason = f"malformed row: {len(fields)} fields, expected {len(TABLE_COLUMNS)}"
            bad.append(Dropped(fields[1] if len(fields) > 1 else "?", reason, row_no, str(path)))
            continue
        row = dict(zip(TABLE_COLUMNS, fields, strict=True))
        rows.append({"name": row["name"], "gloss": row["gloss"].split(), "char": row["char"].split(), "row": row_no})
    return rows, bad


def read_pickle(path: Path) -> list[dict]:
    """The annotation entries of ``csl2020ct_v2.pkl``, read as plain data (nothing in it runs)."""
    doc = loads_plain(path.read_bytes(), path)
    info = doc.get("info") if isinstance(doc, dict) else None
    if not isinstance(info, list):
        raise InputError(path, 'not CSL-Daily annotations: expected a dict with an "info" list of sentence entries')
    rows = []
    for i, entry in enumerate(info):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InputError(path, f"info[{i}] is not a sentence entry with a name")
        gloss, chars = entry.get("label_gloss", []), entry.get("label_char", [])
        if not all(isinstance(x, list) and all(isinstance(t, str) for t in x) for x in (gloss, chars)):
            raise InputError(path, f"info[{i}] ({entry['name']}): label_gloss and label_char must be lists of strings")
        rows.append({"name": entry["name"], "gloss": gloss, "char": chars, "row": i + 1})
    return rows


def read(paths: Sequence[Path]) -> CheckReport:
    tables = [p for p in paths if p.suffix.lower() == PICKLE_SUFFIX or _header(p) == list(TABLE_COLUMNS)]
    split_files = [p for p in paths if p not in tables]
    if not tables:
        raise InputError(paths[0], "a CSL-Daily split file needs its annotations (video_map.txt or csl2020ct_v2.pkl)")
    for table in tables:
        if not split_files and (table.parent / SPLIT_FILE).is_file():
            split_files.append(table.parent / SPLIT_FILE)
    if not split_files:
        raise InputError(tables[0], f"no split file: give CSL-Daily's {SPLIT_FILE} (name|split) with it")
    splits, bad = {}, []
    for path in split_files:
        found, dropped = read_splits(path)
        splits |= found
        bad += dropped
    sentences = []
    for table in tables:
        rows, dropped = (read_pickle(table), []) if table.suffix.lower() == PICKLE_SUFFIX else read_table(table)
        bad += dropped
        for row in rows:
            if row["name"] not in splits:
                bad.append(Dropped(row["name"], "not in the split file", row["row"], str(table)))
                continue
            sentences.append(
                Sentence(
                    video_id=row["name"],
                    video_name=row["name"],
                    sentence_id=row["name"],
                    sentence_name=row["name"],
                    start=0.0,
                    end=0.0,
                    text="".join(row["char"]),
                    split=splits[row["name"]],
                    glosses=tuple(row["gloss"]),
                    row=row["row"],
                )
            )
    report = untimed_report(sentences, str(tables[0]), bad)
    report.dataset = "csl-daily"
    return report


register(
    Dataset(
        name="csl-daily",
        title="CSL-Daily",
        language="csl-zh",
        files="video_map.txt (index|name|length|gloss|char|word|postag) or csl2020ct_v2.pkl, with split_1.txt "
        "(name|split); videos: <name>/ folders of JPEG frames",
        recognize=is_annotation,
        read=read,
        context="none: its sentences are independent",
    )
)
