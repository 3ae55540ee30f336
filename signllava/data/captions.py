"""Videos with timed captions as a dataset: YouTube-ASL, OpenASL, BOBSL-style corpora and anyone's own recordings.

``data.metadata`` takes any of:

- a caption file beside its video, WebVTT (``.vtt``) or SubRip (``.srt``): its video is the video of the same
  stem (``talk.vtt`` -> ``talk.mp4``; a language tag as yt-dlp writes it, ``talk.en.vtt`` or
  ``talk.en-US.srt``, is not part of the stem). Parsed by ``webvtt-py`` (BOM, CRLF, NOTE/STYLE/REGION blocks,
  cue settings, SRT with dots for commas); a timing line it cannot read becomes a dropped row naming its line;
- a folder of such files (searched recursively);
- a caption table, TSV or CSV, with columns video, start, end, text (case-insensitive; aliases in
  :data:`COLUMNS`; optional id, split, gloss), such as OpenASL's ``openasl-v1.0.tsv`` as released
  (``vid yid start end raw-text tokenized-text gloss split``: yid is the full video's stem, vid the clip,
  raw-text the reference). Times are seconds or ``[HH:]MM:SS.mmm``.

Each caption is one :class:`Sentence` cut from its full video (video_id = video_name = the video's stem) by its
times, named ``<video>.<cue number>`` (a table's id column, where it has one, names it instead, with the
characters a file name cannot hold as ``%``: OpenASL's crop script names its clips so, and a pre-cut clip is
found by that name). Its context is the captions before it in the same video.

Split: a table's split column (``valid``/``dev`` is our ``val``), else a ``train``/``val``/``dev``/``test``
word in the file name of a table or the folder names of a caption file, else a stable split by a hash of the
video's name (:data:`HASH_SPLITS`: 90 % train, 5 % val, 5 % test), so that own recordings train with no
hand-made split and a video's captions never straddle two splits.

Text: markup is removed (tags ``<i> <b> <font> <c.x> <v Name>``, inline timestamps, ASS ``{\\an8}``), HTML
entities decoded, speaker labels (``>>``, a leading ``- ``, an upper-case ``NAME:``), music notes and bracketed
sound descriptions (``[MUSIC]``, ``(applause)``) dropped, lines joined with spaces, mojibake repaired.

Dropped with the reason (``data check`` lists them): a caption empty after that (``empty caption``), times
not in order or negative (``bad interval``), an unreadable timing line or row (``malformed cue``,
``malformed row``), and overlaps, decided per video in time order: a caption that only repeats the one before
it while it is still shown or right after (YouTube's rolling captions: each cue repeats the previous line
first; the repeated lines are cut from a cue, and a cue left with nothing new is dropped as ``repeated
caption``, its time added to the first one's), and a caption lying wholly inside the previous one's time
(``overlapping``: two texts for one stretch of signing). Captions that only partly overlap are kept as timed
and counted (``data check`` says how many).
With ``data check --videos``, captions of a missing video are dropped, an end past the video's end is clipped
and a start past it dropped, as for every dataset.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import html
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pose.errors import InputError, excerpt, quoted

from .how2sign import fix_mojibake, table_rows
from .registry import Dataset, register
from .samples import CheckReport, Dropped, Sentence

SIDECARS = (".vtt", ".srt")
TABLES = (".tsv", ".csv", ".txt")
# a table's columns, by role: the first alias present is used (headers compared in lower case, "-"/" " as "_")
COLUMNS = {
    "video": ("video", "yid", "video_id", "youtube_id", "video_file"),
    "start": ("start", "start_time", "begin", "start_s"),
    "end": ("end", "end_time", "stop", "end_s"),
    "text": ("text", "raw_text", "caption", "subtitle", "sentence", "translation", "english"),
    "id": ("vid", "id", "clip", "clip_id", "caption_id", "cue"),
    "split": ("split", "subset"),
    "gloss": ("gloss", "glosses"),
}
REQUIRED = ("video", "start", "end", "text")
HOW2SIGN_ONLY = {"sentence_name", "sentence_id", "start_realigned", "end_realigned"}  # its own reader's files
SPLITS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "dev": "val", "test": "test"}
HASH_SPLITS = (("train", 0.90), ("val", 0.05), ("test", 0.05))  # a video's split where nothing names one
REPEAT_GAP = 0.05  # s: a repeat of the previous caption this soon after it ends is the same caption
LANGUAGE_TAG = re.compile(r"\.[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")  # talk.en.vtt, talk.en-US.srt
UNSAFE = re.compile(r'[:/\\*?"<>|\x00-\x1f]')  # not in a file name: OpenASL writes ':' as '%'
TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d*)?)")

# markup and non-speech in caption text
_TIMESTAMP_TAG = re.compile(r"<\d[\d:.]*>")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|</?\.[^<>]*>")
_ASS = re.compile(r"\{\\[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_SOUND = re.compile(
    r"\b(music|applause|laugh\w*|cheer\w*|clap\w*|sigh\w*|cough\w*|chuckl\w*|inaudible|indistinct|crosstalk|"
    r"silence|no audio|noise|sound\w*|sing\w*|whistl\w*|gasp\w*|groan\w*|scream\w*|background)\b",
    re.IGNORECASE,
)
_PARENS = re.compile(r"\(([^()]*)\)")
_SPEAKER = re.compile(r"^(?:>>+\s*|-\s+|-(?=\S))?(?:[A-Z][A-Z0-9 .'&-]*:\s+)?")
_NOTES = re.compile("[\u2669-\u266f]")  # ♩ ♪ ♫ ♬ ♭ ♮ ♯


def clean_line(line: str) -> str:
    """One caption line as plain text: markup, speaker labels, music and sound descriptions removed."""
    text = _ASS.sub("", _TAG.sub("", _TIMESTAMP_TAG.sub("", line)))
    text = html.unescape(text)
    text = _BRACKETS.sub(" ", _NOTES.sub(" ", text))
    text = _PARENS.sub(lambda m: " " if m[1].isupper() or _SOUND.search(m[1]) else m[0], text)
    text = " ".join(text.split())
    text = _SPEAKER.sub("", text)
    return " ".join(fix_mojibake(text).split())


def clean_text(text: str) -> str:
    """Caption text of any lines, cleaned (:func:`clean_line`) and joined with spaces."""
    return " ".join(filter(None, map(clean_line, re.split(r"\r\n|\r|\n", text))))


def safe_name(name: str) -> str:
    return UNSAFE.sub("%", name.strip())


def video_of(path: Path) -> str:
    """The video a caption file belongs to: its stem, without a language tag (``talk.en-US.vtt`` -> ``talk``)."""
    stem = path.stem
    bare = LANGUAGE_TAG.sub("", stem)
    return bare or stem


def hash_split(video: str) -> str:
    """A stable split for a video no file names a split of (:data:`HASH_SPLITS`)."""
    x = int.from_bytes(hashlib.sha256(video.encode("utf-8", "surrogatepass")).digest()[:8], "big") / 2**64
    for split, share in HASH_SPLITS:
        if x < share:
            return split
        x -= share
    return HASH_SPLITS[0][0]


def split_word(name: str) -> str:
    """The split a file or folder name says as a word of its own (``train``, ``asl_val``, ``dev-set``), or ""."""
    words = [w.lower() for w in re.split(r"[^A-Za-z]+", name)]
    return next((SPLITS[w] for w in reversed(words) if w in SPLITS), "")


def decode(path: Path) -> str:
    """A caption file's text: UTF-8 (a BOM or none) or UTF-16 with a BOM; anything else is one line."""
    raw = path.read_bytes()
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    try:
        return raw.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            path,
            f"not UTF-8 text ({err.reason} at byte {err.start}): captions are read as UTF-8, or UTF-16 with a "
            "byte-order mark; re-save the file as UTF-8",
        ) from None


@dataclass
class _Cue:
    """A caption read, before the checks: its lines cleaned, times in seconds, where it was."""

    video: str
    number: int
    name: str
    cue_id: str
    start: float
    end: float
    lines: list[str]
    split: str
    row: int
    glosses: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass
class _Read:
    cues: list[_Cue] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)  # the split of every row read, dropped or not


# --- WebVTT and SubRip files ----------------------------------------------------------------------------------


def _sentinel(k: int) -> str:
    return f"{9_000_000_000 + k}:00:00.000"


def read_sidecar(path: Path, split: str = "") -> _Read:
    """The cues of one .vtt/.srt file; ``split`` from its folders ("" = by the video's hash)."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError
    from webvtt.models import Timestamp
    from webvtt.srt import SRTCueBlock
    from webvtt.vtt import WebVTTCueBlock

    text = decode(path)
    lines = re.split(r"\r\n|\r|\n", text)
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    fmt = "vtt" if lines[first:] and lines[first].startswith("WEBVTT") else "srt"
    pattern = (WebVTTCueBlock if fmt == "vtt" else SRTCueBlock).CUE_TIMINGS_PATTERN
    video = video_of(path)
    split = split or hash_split(video)
    # every timing line, in order (its cue's number): a line the library cannot read is swapped for a sentinel
    # time, so that its text stays with its cue instead of joining the one before, and reported by line
    timings: list[tuple[int, float, float] | None] = []
    broken: dict[int, tuple[int, str]] = {}  # sentinel hours -> (line number, line)
    for i, line in enumerate(lines):
        if "-->" not in line:
            continue
        match = pattern.match(line)
        try:
            if not match:
                raise MalformedCaptionError(line)
            start, end = (Timestamp.from_string(t.replace(",", ".")) for t in match.groups())
            timings.append((i + 1, _in_seconds(start), _in_seconds(end)))
        except MalformedCaptionError:
            broken[9_000_000_000 + len(timings)] = (i + 1, line)
            timings.append(None)
            lines[i] = f"{_sentinel(len(timings) - 1)} --> {_sentinel(len(timings) - 1)}"
    if not timings:
        raise InputError(path, "no caption cue here (no START --> END timing line)")
    if len(broken) == len(timings):
        row, line = broken[min(broken)]
        raise InputError(path, f"no cue has a readable timing line (line {row}: {quoted(line)} is not START --> END)")
    try:
        captions = webvtt.WebVTT.from_buffer(io.StringIO("\n".join(lines[first:])), format=fmt).captions
    except (MalformedFileError, MalformedCaptionError) as err:
        kind = "WebVTT" if fmt == "vtt" else "SubRip (a cue number, then START --> END, then its text)"
        raise InputError(path, f"not readable as {kind} ({excerpt(err)})") from None
    out = _Read()
    pending = list(captions)
    for number, timing in enumerate(timings, start=1):
        out.splits.append(split)
        name = f"{video}.{number}"
        if timing is None:
            hours = 9_000_000_000 + number - 1
            if pending and pending[0].start_time.hours == hours:
                pending.pop(0)
            row, line = broken[hours]
            out.dropped.append(
                Dropped(name, f"malformed cue: timing line {quoted(line)} is not START --> END", row, str(path))
            )
            continue
        row, start, end = timing
        if not pending or (_in_seconds(pending[0].start_time), _in_seconds(pending[0].end_time)) != (start, end):
            out.dropped.append(Dropped(name, "empty caption: no text", row, str(path)))  # the library skips these
            continue
        caption = pending.pop(0)
        cleaned = [c for c in map(clean_line, caption.lines) if c]
        out.cues.append(_Cue(video, number, name, caption.identifier or str(number), start, end, cleaned, split, row))
    return out


def _in_seconds(t) -> float:
    hours, minutes, seconds, milliseconds = t.to_tuple()
    return hours * 3600 + minutes * 60 + seconds + milliseconds / 1000


# --- caption tables (OpenASL's TSV among them) ------------------------------------------------------------------


def _key(column: str) -> str:
    return re.sub(r"[-\s]+", "_", column.strip().lower())


def _roles(header: Sequence[str]) -> dict[str, int]:
    keys = [_key(h) for h in header]
    roles = {}
    for role, aliases in COLUMNS.items():
        found = [keys.index(a) for a in aliases if a in keys]
        if found:
            roles[role] = found[0]
    return roles


def _header_line(path: Path) -> list[str]:
    with open(path, "rb") as f:
        head = f.read(8192)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        line = head.decode("utf-16", errors="replace")
    else:
        line = head.decode("utf-8-sig", errors="replace")
    line = (line.splitlines() or [""])[0]
    return next(csv.reader([line], delimiter="\t" if "\t" in line else ","), [])


def is_table(path: Path) -> bool:
    """A text table whose header has at least two of the caption columns, and is not How2Sign's."""
    if not path.is_file() or path.suffix.lower() not in TABLES:
        return False
    header = _header_line(path)
    roles = _roles(header)
    return sum(r in roles for r in REQUIRED) >= 2 and not HOW2SIGN_ONLY & {_key(h) for h in header}


def seconds(value: str) -> float:
    """Seconds from ``12.5``, ``00:00:02.270`` or ``01:02,5``; ValueError for anything else."""
    value = value.strip()
    match = TIME.fullmatch(value)
    if match:
        hours, minutes, secs = match.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(secs.replace(",", ".") or 0)
    return float(value)


def read_table(path: Path) -> tuple[_Read, list[str]]:
    """The rows of a caption table, and its columns that are not used."""
    text = decode(path)
    if not text.strip():
        raise InputError(path, "caption table is empty")
    delimiter = "\t" if "\t" in text.splitlines()[0] else ","
    rows = table_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), path)
    header = next(rows)
    roles = _roles(header)
    missing = [r for r in REQUIRED if r not in roles]
    if missing:
        wants = "; ".join(f"{r}: {' / '.join(COLUMNS[r])}" for r in missing)
        raise InputError(
            path, f"caption table: missing column(s) {', '.join(missing)} ({wants}; found {excerpt(', '.join(header))})"
        )
    used = set(roles.values())
    unused = [h for i, h in enumerate(header) if i not in used and h.strip()]
    file_split = split_word(path.stem)
    out = _Read()
    per_video: dict[str, int] = {}
    for row_no, fields in enumerate(rows, start=2):
        if not fields or all(not f.strip() for f in fields):
            continue
        get = {role: fields[i].strip() if i < len(fields) else "" for role, i in roles.items()}
        video = safe_name(get["video"])
        per_video[video] = per_video.get(video, 0) + 1
        name = safe_name(get["id"]) if get.get("id") else f"{video}.{per_video[video]}"
        given = get.get("split", "")
        split = SPLITS.get(given.lower(), "") if given else file_split or hash_split(video)
        out.splits.append(split or file_split or hash_split(video))
        reason = None
        if len(fields) != len(header):
            reason = f"malformed row: {len(fields)} fields, expected {len(header)}"
        elif not video:
            reason = "malformed row: no video"
        elif not split:
            reason = f"malformed row: split {quoted(given)} is none of {', '.join(SPLITS)}"
        else:
            try:
                start, end = seconds(get["start"]), seconds(get["end"])
            except ValueError:
                reason = f"malformed row: start/end {quoted(get['start'])}/{quoted(get['end'])} is not a time"
        if reason:
            out.dropped.append(Dropped(name or "?", reason, row_no, str(path)))
            continue
        cleaned = clean_text(get["text"])
        cue_id = get.get("id") or str(per_video[video])
        glosses = tuple(get.get("gloss", "").split())
        out.cues.append(
            _Cue(
                video, per_video[video], name, cue_id, start, end, [cleaned] if cleaned else [], split, row_no, glosses
            )
        )
    return out, unused


# --- the checks every caption goes through ----------------------------------------------------------------------


def _problem(cue: _Cue) -> str | None:
    if not cue.lines:
        return "empty caption: no text left after removing markup and sound descriptions"
    if not (math.isfinite(cue.start) and math.isfinite(cue.end)):
        return "bad interval: start/end not finite"
    if cue.start < 0:
        return f"bad interval: negative start {cue.start:g}"
    if cue.end <= cue.start:
        return f"bad interval: end {cue.end:g} <= start {cue.start:g}"
    return None


def checked(read: _Read, source: str) -> tuple[list[Sentence], list[Dropped], int]:
    """The usable cues as sentences, video by video in time order, the dropped ones with why, and how many kept
    ones start before the one kept before them ends (kept as timed: cutting them would lose signing)."""
    dropped = list(read.dropped)
    videos: dict[str, list[_Cue]] = {}
    for cue in read.cues:
        reason = _problem(cue)
        if reason:
            dropped.append(Dropped(cue.name, reason, cue.row, source))
        else:
            videos.setdefault(cue.video, []).append(cue)
    kept: list[_Cue] = []
    overlapping = 0
    for cues in videos.values():
        previous: _Cue | None = None
        for cue in sorted(cues, key=lambda c: (c.start, c.end, c.number)):
            reason = None if previous is None else _overlap(previous, cue)
            if reason:
                dropped.append(Dropped(cue.name, reason, cue.row, source))
                continue
            overlapping += previous is not None and cue.start < previous.end
            kept.append(cue)
            previous = cue
    sentences = [
        Sentence(c.video, c.video, c.cue_id, c.name, c.start, c.end, c.text, c.split, glosses=c.glosses, row=c.row)
        for c in kept
    ]
    return sentences, dropped, overlapping


def _overlap(previous: _Cue, cue: _Cue) -> str | None:
    """Why ``cue`` is not a caption of its own after ``previous`` (or None), cutting the lines it repeats."""
    if cue.start <= previous.end + REPEAT_GAP:
        # rolling captions: the cue's first lines are the previous one's last lines
        k = next((k for k in range(min(len(cue.lines), len(previous.lines)), 0, -1)
                  if cue.lines[:k] == previous.lines[-k:]), 0)  # fmt: skip
        if k or cue.text == previous.text:
            cue.lines = cue.lines[k:]
            if not cue.lines or cue.text == previous.text:
                previous.end = max(previous.end, cue.end)
                return f"repeated caption: the text of {previous.name} again (rolling captions), merged into it"
    if cue.start >= previous.start and cue.end <= previous.end:
        return f"overlapping: within {previous.name} ({previous.start:g}-{previous.end:g} s)"
    return None


# --- the dataset ------------------------------------------------------------------------------------------------


def _sidecars(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in SIDECARS and p.is_file())


def is_captions(path: Path) -> bool:
    """A .vtt/.srt file, a folder holding some (below it too), or a caption table."""
    if path.is_dir():
        return any(p.suffix.lower() in SIDECARS for p in path.rglob("*"))
    if path.is_file() and path.suffix.lower() in SIDECARS:
        return True
    return is_table(path)


def _folder_split(path: Path, top: Path) -> str:
    """The split a caption file's folders name, nearest first, up to (and with) the folder given."""
    folder = path.parent
    while True:
        split = split_word(folder.name)
        if split or folder == top or folder == folder.parent:
            return split
        folder = folder.parent


def read(paths: Sequence[Path]) -> CheckReport:
    report = CheckReport(dataset="captions")
    parts: list[tuple[_Read, Path]] = []
    for path in map(Path, paths):
        if path.is_dir():
            files = _sidecars(path)
            if not files:
                raise InputError(path, "no .vtt or .srt caption file in this folder or below")
            parts += [(read_sidecar(f, _folder_split(f, path)), f) for f in files]
        elif path.suffix.lower() in SIDECARS:
            parts.append((read_sidecar(path, _folder_split(path, path.parent)), path))
        else:
            part, unused = read_table(path)
            if unused:
                report.ignored_columns[str(path)] = unused
            parts.append((part, path))
    for part, path in parts:
        sentences, dropped, overlapping = checked(part, str(path))
        report.overlapping += overlapping
        report.read.update(part.splits)
        report.kept += sentences
        report.dropped += dropped
    return report


def explain(path: Path) -> str | None:
    """Why a caption-like file is not read as captions (for a file no dataset recognized)."""
    if path.is_file() and path.suffix.lower() in TABLES:
        roles = _roles(_header_line(path))
        if any(r in roles for r in REQUIRED):
            missing = [r for r in REQUIRED if r not in roles]
            return f"not a caption table: missing column(s) {', '.join(missing)}"
    return None


register(
    Dataset(
        name="captions",
        title="videos with timed captions (YouTube-ASL, OpenASL, BOBSL-style, own recordings)",
        language="asl-en",
        files="<video>.vtt / <video>.srt beside <video>.mp4, a folder of them, or a caption table (TSV/CSV: video, "
        "start, end, text; OpenASL's openasl-v1.0.tsv as released); split from a split column or a train/val/test "
        "folder or file name, else by a hash of the video name (90 % train, 5 % val, 5 % test); "
        "videos: the full videos",
        recognize=is_captions,
        read=read,
        explain=explain,
        context="the captions before it in the same video (by start time)",
    )
)
