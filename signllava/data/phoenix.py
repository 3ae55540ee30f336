"""RWTH-PHOENIX-Weather 2014 T (German Sign Language -> German) from the files its release ships.

``annotations/manual/PHOENIX-2014-T.<split>.corpus.csv`` (``dev`` is our ``val``), ``|``-separated::

    name|video|start|end|speaker|orth|translation
    25October_2010_Monday_tagesschau-17|25October_2010_Monday_tagesschau-17/1/*.png|-1|-1|Signer01|REGEN ...|regen ...

Each row is a whole sentence clip: its video is the folder of 210x260 PNG frames
``features/fullFrame-210x260px/<split>/<name>/images0001.png ...`` at 25 fps (``start``/``end`` are -1), so
``extract-poses features/fullFrame-210x260px -o poses/`` gives ``<split>/<name>.pose`` and the sentence
reads ``<name>.pose``. ``orth`` (the glosses) feeds the gloss CTC head; ``translation`` (lowercase,
tokenized German, as papers score it) is the reference.

Context: a name is ``<broadcast>-<n>``, ``n`` counting the broadcast's sentences in order (the weather
forecast of one evening's news), so the sentences of one broadcast in the same split are one "video" in
``n``'s order and a sentence's context is the ones before it, as How2Sign's are the earlier sentences of
its video. Neighbours that went to another split are not seen, as they are not in How2Sign either.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from pose.errors import InputError

from .how2sign import fix_mojibake, split_of, table_rows
from .registry import Dataset, register, untimed_report
from .samples import CheckReport, Dropped, Sentence

COLUMNS = ("name", "video", "start", "end", "speaker", "orth", "translation")
FILE_RE = re.compile(r"PHOENIX-2014-T\.(train|dev|test)\.corpus\.csv$", re.IGNORECASE)
NAME_RE = re.compile(r"^(?P<broadcast>.+)-(?P<n>\d+)$")
FPS = 25.0  # the release's frame rate
FRAMES = "features/fullFrame-210x260px"  # below the release's root: <split>/<name>/images0001.png ...


def _first_line(path: Path) -> str:
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        return f.readline().strip()


def is_corpus(path: Path) -> bool:
    return path.is_file() and (FILE_RE.search(path.name) is not None or _first_line(path) == "|".join(COLUMNS))


def read_corpus(path: str | Path) -> tuple[list[Sentence], list[Dropped]]:
    """The rows of one corpus file as sentences, and the rows that could not be parsed (with why)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    lines = text.splitlines()
    if not lines or [c.strip() for c in lines[0].split("|")] != list(COLUMNS):
        raise InputError(path, f"not a PHOENIX-2014-T corpus file: its header must be {'|'.join(COLUMNS)}")
    split = split_of(path)
    if not split:
        raise InputError(path, "no split in the file name (PHOENIX-2014-T.<train|dev|test>.corpus.csv)")
    sentences, bad = [], []
    rows = table_rows(csv.reader(io.StringIO(text, newline=""), delimiter="|", quoting=csv.QUOTE_NONE), path)
    next(rows)
    for row_no, fields in enumerate(rows, start=2):
        if not fields or all(not f.strip() for f in fields):
            continue
        name = fields[0].strip()
        if len(fields) != len(COLUMNS):
            reason = f"malformed row: {len(fields)} fields, expected {len(COLUMNS)}"
            bad.append(Dropped(name or "?", reason, row_no, str(path)))
            continue
        row = dict(zip(COLUMNS, (f.strip() for f in fields), strict=True))
        match = NAME_RE.match(name)
        sentences.append(
            Sentence(
                video_id=match["broadcast"] if match else name,
                video_name=name,
                sentence_id=name,
                sentence_name=name,
                start=0.0,
                end=0.0,
                text=fix_mojibake(row["translation"]),
                split=split,
                glosses=tuple(row["orth"].split()),
                row=row_no,
                order=int(match["n"]) if match else 0,
            )
        )
    return sentences, bad


def read(paths: Sequence[Path]) -> CheckReport:
    report = CheckReport(dataset="phoenix14t")
    for path in paths:
        sentences, bad = read_corpus(path)
        report.absorb(untimed_report(sentences, str(path), bad))
        report.read[split_of(path)] += len(bad)
    return report


def frame_folder(corpus: Path, sentence: Sentence) -> Path:
    """Where the release keeps a sentence's frames, from its corpus file (``annotations/manual/``)."""
    split = "dev" if sentence.split == "val" else sentence.split
    return corpus.resolve().parents[2] / FRAMES / split / sentence.sentence_name


register(
    Dataset(
        name="phoenix14t",
        title="RWTH-PHOENIX-Weather 2014 T",
        language="dgs-de",
        files="annotations/manual/PHOENIX-2014-T.{train,dev,test}.corpus.csv (name|video|start|end|speaker|orth|"
        f"translation); videos: {FRAMES}/<split>/<name>/ folders of PNG frames at 25 fps",
        recognize=is_corpus,
        read=read,
        context="the earlier sentences of the same broadcast (<broadcast>-<n>, in n's order, same split)",
    )
)
