"""How2Sign "realigned" metadata: reading, repairing, validating, and a manifest of usable sentences.

The official files are tab-separated despite the ``.csv`` name, use CRLF line endings, quote
fields CSV-style with doubled quotes inside (``"with ""Lips and More""."``), and have IDs that
start with ``-``, ``--`` or ``_``; copies in the wild are comma-separated, LF, or carry mojibake:
``’`` as ``â€™`` (UTF-8 read as Windows-1252) or as ``â`` and the C1 controls U+0080 U+0099 (UTF-8 read
as Latin-1, in the official val file). :func:`read_realigned` accepts all of these; :func:`check` drops
rows that cannot be used and says why, so a training run never meets them.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from ftfy import TextFixerConfig, fix_text

from pose.errors import InputError, excerpt, quoted
from pose.io import atomic_output

from .registry import Dataset, register
from .samples import CheckReport, Dropped, Sentence, by_video  # noqa: F401  (re-exported: their old home)

REQUIRED = ("VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED", "END_REALIGNED", "SENTENCE")
ALIASES = {"START": "START_REALIGNED", "END": "END_REALIGNED"}  # the non-realigned release's names
PARAPHRASE_PREFIX = "PARAPHRASE"  # extra columns named PARAPHRASE*, SENTENCE_PARAPHRASE* ... are alternatives
GLOSS_COLUMN = "GLOSSES"  # optional: the sentence's sign glosses, space-separated (synthsign writes it)
SPLIT_RE = re.compile(r"(train|val|dev|test)", re.IGNORECASE)
# ftfy undoes mis-decoded UTF-8 only; every fix that would change well-formed text (curly quotes,
# ligatures, full-width letters, HTML entities, Unicode normalization) is off
MOJIBAKE_FIXES = TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 read as Windows-1252 (``â€™`` -> ``’``) or as Latin-1 (``â`` + U+0080 U+0099 -> ``’``);
    other text is returned unchanged."""
    return text if text.isascii() else fix_text(text, MOJIBAKE_FIXES)  # most rows: skip ftfy's scan


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(path, "not UTF-8 or Windows-1252 text")


def split_of(path: str | os.PathLike) -> str:
    """``train``/``val``/``test`` from a file name like ``how2sign_realigned_val.csv``."""
    found = SPLIT_RE.findall(Path(path).stem)
    split = found[-1].lower() if found else ""
    return "val" if split == "dev" else split


def _header(text: str) -> list[str]:
    line = text.splitlines()[0]
    fields = next(csv.reader([line], delimiter="\t" if "\t" in line else ","))
    return [ALIASES.get(h.strip().upper(), h.strip().upper()) for h in fields]


def table_rows(reader, path: Path) -> Iterator:
    """The rows of a ``csv`` reader (or ``DictReader``) over ``path``; a row it cannot parse (a field past its
    size limit, a quote left open) is one line naming the file and the line, as every other problem of a table
    is."""
    try:
        yield from reader
    except csv.Error as err:
        raise InputError(path, f"not a readable table at line {reader.line_num} ({excerpt(err)})") from None


def unknown_columns(path: str | os.PathLike) -> list[str]:
    """Header columns of a metadata file that are neither required nor paraphrases (ignored on read)."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        header = _header(f.readline() or "\n")
    known = {*REQUIRED, GLOSS_COLUMN, *MANIFEST_ONLY}
    return [h for h in header if h and h not in known and PARAPHRASE_PREFIX not in h]


def read_realigned(path: str | os.PathLike, split: str | None = None) -> tuple[list[Sentence], list[Dropped]]:
    """All rows of a realigned metadata file, and the rows that could not be parsed (with why)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "metadata file not found")
    text = _decode(path)
    if not text.strip():
        raise InputError(path, "metadata file is empty")
    delimiter = "\t" if "\t" in text.splitlines()[0] else ","
    rows = table_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"'), path)
    next(rows)
    header = _header(text)
    problem = _header_problem(header)
    if problem:
        raise InputError(path, problem)
    col = {name: header.index(name) for name in REQUIRED}
    para_cols = [i for i, h in enumerate(header) if PARAPHRASE_PREFIX in h]
    gloss_col = header.index(GLOSS_COLUMN) if GLOSS_COLUMN in header else None
    split_col = header.index("SPLIT") if "SPLIT" in header else None  # a manifest of ours mixes splits
    split = split if split is not None else split_of(path)
    sentences, bad = [], []
    for row_no, fields in enumerate(rows, start=2):
        if not fields or all(not f.strip() for f in fields):
            continue
        name = fields[col["SENTENCE_NAME"]].strip() if len(fields) > col["SENTENCE_NAME"] else "?"
        if len(fields) != len(header):
            bad.append(Dropped(name, f"malformed row: {len(fields)} fields, expected {len(header)}", row_no, str(path)))
            continue
        try:
            start, end = float(fields[col["START_REALIGNED"]]), float(fields[col["END_REALIGNED"]])
        except ValueError:
            bad.append(Dropped(name, "malformed row: START/END is not a number", row_no, str(path)))
            continue
        paraphrases = tuple(fix_mojibake(fields[i].strip()) for i in para_cols if fields[i].strip())
        sentences.append(
            Sentence(
                video_id=fields[col["VIDEO_ID"]].strip(),
                video_name=fields[col["VIDEO_NAME"]].strip(),
                sentence_id=fields[col["SENTENCE_ID"]].strip(),
                sentence_name=name,
                start=start,
                end=end,
                text=fix_mojibake(fields[col["SENTENCE"]].strip()),
                split=(fields[split_col].strip() if split_col is not None else "") or split,
                paraphrases=paraphrases,
                glosses=tuple(fields[gloss_col].split()) if gloss_col is not None else (),
                row=row_no,
            )
        )
    return sentences, bad


def check_metadata(
    paths: Iterable[str | os.PathLike],
    durations: Mapping[str, float] | None = None,
    min_duration: float = 0.1,
) -> CheckReport:
    """Read metadata files and keep only usable sentences.

    Dropped, with the reason: malformed rows, empty text, duplicate SENTENCE_NAME (the later row),
    negative start, zero-length or inverted intervals, spans shorter than ``min_duration``
    seconds. With ``durations`` (VIDEO_NAME or SENTENCE_NAME -> seconds; the media found by the
    caller): sentences whose media is missing are dropped, an END past the video's end is clipped to
    it, and a START at or past it is dropped.
    """
    report = CheckReport()
    seen: dict[str, Sentence] = {}
    for path in paths:
        sentences, bad = read_realigned(path)
        unknown = unknown_columns(path)
        if unknown:
            report.ignored_columns[str(path)] = unknown
        report.read.update(s.split for s in sentences)  # a manifest's rows carry their own split
        if bad:
            report.read[split_of(path)] += len(bad)
        report.dropped += bad
        for s in sentences:
            reason = _problem(s, seen, min_duration)
            if reason is None and durations is not None:
                s, reason = _fit_media(s, durations, report)
            if reason is not None:
                report.dropped.append(Dropped(s.sentence_name, reason, s.row, str(path)))
                continue
            seen[s.sentence_name] = s
            report.kept.append(s)
    return report


def _problem(s: Sentence, seen: Mapping[str, Sentence], min_duration: float) -> str | None:
    if not s.sentence_name:
        return "malformed row: empty SENTENCE_NAME"
    if s.sentence_name in seen:
        first = seen[s.sentence_name]
        return f"duplicate name: {s.sentence_name} already at row {first.row} ({first.split})"
    if not s.text:
        return "empty sentence"
    if not (math.isfinite(s.start) and math.isfinite(s.end)):
        return "bad interval: START/END not finite"
    if s.start < 0:
        return f"bad interval: negative START {s.start}"
    if s.end <= s.start:
        return f"bad interval: END {s.end} <= START {s.start}"
    if s.duration < min_duration:
        return f"too short: {s.duration:.2f} s < {min_duration} s"
    return None


def _fit_media(s: Sentence, durations: Mapping[str, float], report: CheckReport) -> tuple[Sentence, str | None]:
    if s.sentence_name in durations:  # a pre-cut clip: the whole clip is the sentence
        return s, None
    if s.video_name not in durations:
        return s, f"missing video: neither {s.video_name} nor {s.sentence_name} found"
    length = durations[s.video_name]
    if s.start >= length:
        return s, f"past the end: START {s.start} >= video length {length:.2f} s"
    if s.end > length:
        report.clipped += 1
        return replace(s, end=length), None
    return s, None


# the columns a manifest adds to the realigned ones (read back in upper case, as every header is)
DATASET_COLUMN = "DATASET"  # optional: the registered dataset the rows come from (its language pair)
ORDER_COLUMN = "ORDER"  # with it: the row's place in its video, for datasets without times
KEYWORDS_COLUMN = "KEYWORDS"  # optional: the annotation's keywords of the row, joined by KEYWORD_SEPARATOR
KEYWORD_SEPARATOR = " | "
MANIFEST_ONLY = ("SPLIT", "MEDIA", DATASET_COLUMN, ORDER_COLUMN, KEYWORDS_COLUMN)
MANIFEST_COLUMNS = (
    "split",
    "VIDEO_ID",
    "VIDEO_NAME",
    "SENTENCE_ID",
    "SENTENCE_NAME",
    "START_REALIGNED",
    "END_REALIGNED",
    "SENTENCE",
    "media",
)


def write_manifest(
    sentences: Iterable[Sentence],
    path: str | os.PathLike,
    media: Mapping[str, str] | None = None,
    dataset: str = "",
) -> Path:
    """The kept sentences as one TSV (atomically), sorted by split, video and start time (and place in the
    video, for metadata without times); ``media`` maps SENTENCE_NAME to the video (full video, pre-cut clip
    or frame folder) it is cut from. Glosses and paraphrases, where the metadata had them, are kept in the
    optional columns GLOSSES and PARAPHRASE_1, PARAPHRASE_2, ...; ``dataset`` (the registered dataset the
    rows come from, so the manifest keeps its language pair and order) in DATASET, with each row's place;
    keywords, where the annotation gave them, in KEYWORDS."""
    media = media or {}
    ordered = sorted(sentences, key=lambda s: (s.split, s.video_id, s.start, s.order, s.sentence_name))
    with_glosses = any(s.glosses for s in ordered)
    with_keywords = any(s.keywords for s in ordered)
    n_para = max((len(s.paraphrases) for s in ordered), default=0)
    header = [*MANIFEST_COLUMNS, *([GLOSS_COLUMN] if with_glosses else [])]
    header += [DATASET_COLUMN, ORDER_COLUMN] if dataset else []
    header += [KEYWORDS_COLUMN] if with_keywords else []
    header += [f"{PARAPHRASE_PREFIX}_{i + 1}" for i in range(n_para)]
    with atomic_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        for s in ordered:
            row = [
                s.split,
                s.video_id,
                s.video_name,
                s.sentence_id,
                s.sentence_name,
                f"{s.start:.3f}",
                f"{s.end:.3f}",
                s.text,
                media.get(s.sentence_name, ""),
            ]
            row += [" ".join(s.glosses)] if with_glosses else []
            row += [dataset, str(s.order)] if dataset else []
            row += [KEYWORD_SEPARATOR.join(s.keywords)] if with_keywords else []
            row += [*s.paraphrases, *[""] * (n_para - len(s.paraphrases))]
            writer.writerow(row)
    return Path(path)


def read_manifest(path: str | os.PathLike) -> list[Sentence]:
    """Sentences from a manifest written by :func:`write_manifest` (:func:`manifest_dataset` says whose).

    A manifest's rows were checked when it was written, so a row that ``data check`` would not have kept
    (fields missing or extra, no name, times that are not numbers in order) means the file was damaged or
    edited since: one line naming the row, rather than a sentence training would trip on later."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "manifest not found")
    reader = csv.DictReader(io.StringIO(_utf8(path), newline=""), delimiter="\t")
    rows = [(r, reader.line_num) for r in table_rows(reader, path)]
    missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(path, f"not a SignLLaVA manifest: missing column(s) {', '.join(missing)}")
    para_cols = [c for c in reader.fieldnames if c.startswith(PARAPHRASE_PREFIX)]
    return [_manifest_row(r, line, para_cols, path) for r, line in rows]


def _manifest_row(r: dict, line: int, para_cols: list[str], path: Path) -> Sentence:
    if None in r or None in r.values():  # csv.DictReader: extra fields go under None, missing ones are None
        raise InputError(path, f"line {line}: fields missing or extra (the header has {len(r) - (None in r)} columns)")
    try:
        start, end = float(r["START_REALIGNED"]), float(r["END_REALIGNED"])
        order = int(r.get(ORDER_COLUMN) or 0)
    except ValueError:
        raise InputError(path, f"line {line}: START/END or ORDER is not a number") from None
    if not r["SENTENCE_NAME"].strip():
        raise InputError(path, f"line {line}: empty SENTENCE_NAME")
    if not (math.isfinite(start) and math.isfinite(end) and 0 <= start <= end):
        raise InputError(path, f"line {line}: bad interval START {excerpt(start)} END {excerpt(end)}")
    return Sentence(
        r["VIDEO_ID"],
        r["VIDEO_NAME"],
        r["SENTENCE_ID"],
        r["SENTENCE_NAME"],
        start,
        end,
        r["SENTENCE"],
        r["split"],
        row=line,
        paraphrases=tuple(r[c] for c in para_cols if r[c]),
        glosses=tuple((r.get(GLOSS_COLUMN) or "").split()),
        order=order,
        keywords=tuple(k for k in (w.strip() for w in (r.get(KEYWORDS_COLUMN) or "").split("|")) if k),
    )


def _utf8(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text ({err.reason} at byte {err.start}), as a manifest is written") from None


def manifest_dataset(path: str | os.PathLike) -> str:
    """The dataset a manifest's rows come from, where it records one ("" for manifests from before); one line
    when it names none SignLLaVA reads."""
    from .registry import DATASETS

    path = Path(path)
    row = next(table_rows(csv.DictReader(io.StringIO(_utf8(path), newline=""), delimiter="\t"), path), None)
    name = (row or {}).get(DATASET_COLUMN) or ""
    if name and name not in DATASETS:
        raise InputError(path, f"its {DATASET_COLUMN} column names {quoted(name)}, no dataset SignLLaVA reads")
    return name


def find_media(
    sentences: Iterable[Sentence], folder: str | os.PathLike, frames_fps: float = 25.0
) -> tuple[dict[str, float], dict[str, str]]:
    """Look for each sentence's media under ``folder``: its full video ``VIDEO_NAME.mp4``, its pre-cut clip
    ``SENTENCE_NAME.mp4``, or a folder of its frames named either way (searched recursively; frames at
    ``frames_fps``). Returns durations (name -> s) for :func:`check` and SENTENCE_NAME -> media path for the
    manifest. Unreadable videos count as missing."""
    from pose.video import VIDEO_SUFFIXES, is_frame_folder, probe

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "video folder not found")
    found = [folder, *folder.rglob("*")]  # one walk of a folder that may hold tens of thousands of videos
    files = {p.stem: p for p in found if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()}
    files |= {p.name: p for p in found if p.is_dir() and is_frame_folder(p)}
    if not files:
        looked = ", ".join(VIDEO_SUFFIXES)
        raise InputError(folder, f"no videos (nor folders of frames) in this folder or below (looked for {looked})")
    durations: dict[str, float] = {}
    media: dict[str, str] = {}

    def duration(name: str) -> float | None:
        if name not in durations and name in files:
            try:
                info = probe(files[name], frames_fps=frames_fps)
                durations[name] = info.num_frames / info.fps
            except InputError:
                return None
        return durations.get(name)

    for s in sentences:
        for name in (s.sentence_name, s.video_name):
            if duration(name) is not None:
                media[s.sentence_name] = str(files[name])
                break
    if not media:
        raise InputError(folder, "no video here is any sentence's (named SENTENCE_NAME or VIDEO_NAME, e.g. .mp4)")
    return durations, media


def with_media(report: CheckReport, durations: Mapping[str, float]) -> CheckReport:
    """``report`` with the sentences whose media was not found dropped (and ENDs past a video's end clipped),
    as :func:`check_metadata` does given durations; for metadata of any dataset."""
    out = replace(report, kept=[], dropped=list(report.dropped))
    for s in report.kept:
        s, reason = _fit_media(s, durations, out)
        if reason is None:
            out.kept.append(s)
        else:
            out.dropped.append(Dropped(s.sentence_name, reason, s.row, report.dataset or "metadata"))
    return out


def _header_problem(header: list[str]) -> str | None:
    missing = [c for c in REQUIRED if c not in header]
    if not missing:
        return None
    return (
        f"not How2Sign realigned metadata: missing column(s) {', '.join(missing)} (found {excerpt(', '.join(header))})"
    )


def explain(path: Path) -> str | None:
    """Why a table of text is not How2Sign metadata (its missing columns), for a file no dataset recognized."""
    if not path.is_file() or path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        return None
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        return _header_problem(_header(f.readline() or "\n"))


def is_realigned(path: Path) -> bool:
    """Whether ``path`` is How2Sign-layout metadata: a text file whose header has the realigned columns."""
    if not path.is_file() or path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        return False
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        header = _header(f.readline() or "\n")
    return all(c in header for c in REQUIRED) and "SPLIT" not in header


def is_manifest(path: Path) -> bool:
    if not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readline().startswith("split\t")


def _read_realigned(paths) -> CheckReport:
    report = check_metadata(paths)
    report.dataset = "how2sign"
    return report


def _read_manifests(paths) -> CheckReport:
    report = CheckReport()
    names = {manifest_dataset(p) for p in paths}
    report.dataset = names.pop() if len(names) == 1 else ""
    for path in paths:
        sentences = read_manifest(path)
        report.read.update(s.split for s in sentences)
        report.kept += sentences
    return report


register(
    Dataset(
        name="how2sign",
        title="How2Sign (realigned metadata; synthsign writes the same layout)",
        language="asl-en",
        files="how2sign_realigned_{train,val,test}.csv (tab-separated: VIDEO_ID, VIDEO_NAME, SENTENCE_ID, "
        "SENTENCE_NAME, START_REALIGNED, END_REALIGNED, SENTENCE); videos: full videos or pre-cut clips",
        recognize=is_realigned,
        read=_read_realigned,
        explain=explain,
        context="the first sentences and the sentences right before it in the same video (by START)",
    )
)
register(
    Dataset(
        name="manifest",
        title="a manifest `signllava data check` or `data passages` wrote (of any dataset)",
        language="asl-en",  # manifests from before the DATASET column were How2Sign's or synthsign's
        files="a .tsv whose first column is split (the dataset it came from in its DATASET column)",
        recognize=is_manifest,
        read=_read_manifests,
        context="as in the dataset it came from",
    )
)
