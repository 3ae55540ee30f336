"""Structured inputs for the readers whose formats have structure, as hypothesis strategies of bytes.

A byte mutation of a table or a JSON document mostly breaks its syntax, and the reader stops at its parser;
these strategies draw documents that parse, with the fields, types and values each reader must check (a
column missing or twice, a row of the wrong width, a time of ``nan``, a list where a mapping belongs, a number
where a string belongs, a key of another schema), so that the fuzzer spends its time in those checks. Each
returns the bytes a target reads (with the leading byte that picks a folder's file, where it has several).
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

# no subnormal floats: a run that set the CPU's flush-to-zero flags (pretrain.runtime.flush_denormals, in every
# loaded model's process and so in the test session's) cannot represent them, and hypothesis refuses to draw them
floats = st.floats(allow_subnormal=False)
# text as metadata carries it: any character, with the ones that matter to CSV, JSON and YAML more often
TRICKY = ["\t", ",", "|", '"', "'", "\n", "\r", "\x00", "\x85", "\u2028", "\ufeff", "â€™", "-", "_", "/", ":", " "]
text = st.lists(st.characters() | st.sampled_from(TRICKY), max_size=12).map("".join)
numbers = st.one_of(
    st.integers(-(10**30), 10**30),
    floats,
    st.sampled_from(["nan", "inf", "-inf", "1e309", "-0", "0x10", "1_000", " 1 ", "", "١٢"]),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_subnormal=False), text
)


def json_values(keys=text):
    return st.recursive(
        json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4))
    )


def _field(value) -> str:
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)


@st.composite
def _table(draw, columns: list[str], delimiter, encodings=("utf-8",), quote: bool = True) -> bytes:
    """A header of ``columns`` (some dropped, repeated or renamed, in any order) and rows of fields drawn to be
    numbers or text, joined by ``delimiter``, with CRLF or LF, quoted CSV-style or not."""
    header = draw(st.lists(st.sampled_from(columns) | text, min_size=1, max_size=len(columns) + 2))
    if draw(st.booleans()):
        header = list(columns) + draw(st.lists(st.sampled_from(columns) | text, max_size=2))
    sep = draw(delimiter) if not isinstance(delimiter, str) else delimiter
    width = st.integers(max(0, len(header) - 1), len(header) + 1)
    rows = draw(
        st.lists(width.flatmap(lambda n: st.lists(numbers.map(_field) | text, min_size=n, max_size=n)), max_size=5)
    )
    newline = draw(st.sampled_from(["\n", "\r\n"]))

    def line(fields: list[str]) -> str:
        if quote and draw(st.booleans()):
            fields = ['"' + f.replace('"', '""') + '"' if (sep in f or '"' in f or "\n" in f) else f for f in fields]
        return sep.join(fields)

    body = newline.join(line(r) for r in [header, *rows]) + newline
    return body.encode(draw(st.sampled_from(encodings)), errors="replace")


HOW2SIGN = ["VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED", "END_REALIGNED", "SENTENCE"]


def how2sign_tables():
    columns = [*HOW2SIGN, "START", "END", "PARAPHRASE_1", "SENTENCE_PARAPHRASE", "GLOSSES", "SPLIT"]
    return _table(columns, st.sampled_from(["\t", ","]), ("utf-8", "utf-8-sig", "cp1252", "latin-1"))


def manifests():
    columns = ["split", *HOW2SIGN, "media", "GLOSSES", "DATASET", "ORDER", "PARAPHRASE_1"]
    return _table(columns, "\t", ("utf-8",)) | _manifest_rows()


@st.composite
def _manifest_rows(draw) -> bytes:
    """A manifest with every column, whose DATASET, ORDER, split and times take any value."""
    names = ["split", *HOW2SIGN, "media", "DATASET", "ORDER"]
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        row = {n: draw(text) for n in names}
        row |= {"START_REALIGNED": _field(draw(numbers)), "END_REALIGNED": _field(draw(numbers))}
        row |= {
            "DATASET": draw(st.sampled_from(["", "how2sign", "phoenix14t", "csl-daily", "jsalt", "manifest"]) | text)
        }
        row |= {"ORDER": _field(draw(numbers)), "split": draw(st.sampled_from(["train", "val", "test"]) | text)}
        rows.append(row)
    lines = ["\t".join(names)] + ["\t".join(r[n].replace("\t", " ").replace("\n", " ") for n in names) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8", errors="replace")


def phoenix_corpora():
    columns = ["name", "video", "start", "end", "speaker", "orth", "translation"]
    return _header_kept(_table(columns, "|", quote=False), "|".join(columns))


def _header_kept(tables, header: str):
    """Tables whose header is sometimes the exact one the reader recognizes, so that their rows are read."""
    return st.one_of(tables, st.tuples(tables, st.just(header)).map(lambda t: _replace_header(*t)))


def _replace_header(table: bytes, header: str) -> bytes:
    rest = table.split(b"\n", 1)[1] if b"\n" in table else b""
    return header.encode() + b"\n" + rest


_TIMESTAMPS = st.one_of(
    st.builds(
        lambda h, m, s, ms, sep: f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}",
        st.integers(0, 99),
        st.integers(0, 75),
        st.integers(0, 75),
        st.integers(0, 999),
        st.sampled_from([".", ","]),
    ),
    st.sampled_from(["00:01.000", "-00:00:01.000", "00:00:01", "1e9:00:00.000", "99999999999:00:00.000", ""]),
)


def caption_files():
    """A WebVTT file (first byte 0), a SubRip file (1) or a caption table with OpenASL's columns and aliases (2),
    of cues whose times and texts are drawn."""
    cues = st.lists(st.tuples(_TIMESTAMPS, _TIMESTAMPS, text, text), max_size=5)

    def vtt(cs) -> bytes:
        body = "".join(f"{i}\n{a} --> {b} {settings}\n{t}\n\n" for i, (a, b, t, settings) in enumerate(cs))
        return b"\x00" + ("WEBVTT\n\n" + body).encode("utf-8", errors="replace")

    def srt(cs) -> bytes:
        body = "".join(f"{i + 1}\n{a} --> {b}\n{t}\n{u}\n\n" for i, (a, b, t, u) in enumerate(cs))
        return b"\x01" + body.encode("utf-8", errors="replace")

    columns = ["vid", "yid", "start", "end", "raw-text", "tokenized-text", "gloss", "split", "video", "text", "id"]
    encodings = ("utf-8", "utf-8-sig", "utf-16", "latin-1")
    table = _header_kept(_table(columns, st.sampled_from(["\t", ","]), encodings), "\t".join(columns[:8]))
    return cues.map(vtt) | cues.map(srt) | table.map(lambda b: b"\x02" + b)


def csl_files():
    table = ["index", "name", "length", "gloss", "char", "word", "postag"]
    video_map = _header_kept(_table(table, "|", quote=False), "|".join(table)).map(lambda b: b"\x00" + b)
    split = _header_kept(_table(["name", "split"], "|", quote=False), "name|split").map(lambda b: b"\x01" + b)
    return video_map | split | _csl_pickles().map(lambda b: b"\x02" + b)


@st.composite
def _csl_pickles(draw) -> bytes:
    import pickle

    keys = st.sampled_from(["name", "length", "label_gloss", "label_char", "label_word", "signer"]) | text
    entry = st.dictionaries(keys, json_values(keys), max_size=6)
    names = st.sampled_from(["S000000_P0000_T00", "S000001_P0001_T00"]) | text
    good = st.fixed_dictionaries({"name": names, "label_gloss": st.lists(text), "label_char": st.lists(text)})
    info = st.lists(good | entry | json_values(), max_size=4)
    doc = draw(st.dictionaries(st.sampled_from(["info", "gloss_map"]) | text, info | json_values(), max_size=3))
    return pickle.dumps(doc, protocol=draw(st.integers(0, pickle.HIGHEST_PROTOCOL)))


@st.composite
def jsalt_annotations(draw) -> bytes:
    keys = st.sampled_from(["clip_order", "translation", "paraphrases", "keywords", "clip_1", "clip_2"]) | text
    words = st.lists(text | st.sampled_from(["hello", "in person", "Q and A", "it's", "a, b"]), max_size=4)
    fields = {"translation": json_scalars, "paraphrases": json_values()}
    clip = st.fixed_dictionaries(fields, optional={"keywords": words | json_values()}) | json_values(keys)
    videos = {}
    for _ in range(draw(st.integers(0, 3))):
        clips = draw(st.lists(st.sampled_from(["clip_1", "clip_2", "clip_3"]) | text, max_size=4))
        order = draw(st.sampled_from([clips, clips[::-1], clips + clips[:1]]) | json_values())
        video = {"clip_order": order} | {c: draw(clip) for c in clips}
        videos[draw(text)] = draw(st.just(video) | json_values(keys))
    doc = draw(st.just(videos) | json_values(keys))
    return json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", errors="surrogatepass")


def jsalt_indexes():
    ids = st.sampled_from(["vid00", "vid01", "vid02"]) | text
    shard = st.integers(-3, 3) | st.sampled_from(["0", "1", "x", "-1", "00", ""]) | json_values()
    index = st.dictionaries(ids, shard, max_size=4) | json_values()
    return index.map(lambda doc: b"\x01" + json.dumps(doc).encode("utf-8", errors="surrogatepass"))


def _yaml(doc) -> bytes:
    import yaml

    return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", errors="surrogatepass")


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | floats | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


def _schema_tree(fields: dict):
    """Documents keyed by a schema's own field names (nested as the schema nests them), with any values."""
    keys = {name: (_schema_tree(sub) if isinstance(sub, dict) else yaml_values) for name, sub in fields.items()}
    return st.dictionaries(st.sampled_from(sorted(keys)), yaml_values, max_size=4).flatmap(
        lambda doc: st.fixed_dictionaries({k: keys[k] | st.just(v) for k, v in doc.items()})
    )


def _fields(schema) -> dict:
    import dataclasses
    import typing

    hints = typing.get_type_hints(schema)
    out = {}
    for f in dataclasses.fields(schema):
        kind = hints[f.name]
        out[f.name] = _fields(kind) if dataclasses.is_dataclass(kind) else None
    return out


def configs():
    from pose.config import ExtractConfig
    from signllava.model.build import TrainConfig

    train = _schema_tree(_fields(TrainConfig)).map(lambda d: b"\x00" + _yaml(d))
    extract = _schema_tree(_fields(ExtractConfig)).map(lambda d: b"\x01" + _yaml(d))
    return train | extract | yaml_values.map(lambda d: b"\x00" + _yaml(d))


def profiles():
    import dataclasses

    from signllava.cluster.profiles import Profile
    from signllava.cluster.stages import STAGES

    fields = st.dictionaries(st.sampled_from([f.name for f in dataclasses.fields(Profile)]), yaml_values, max_size=4)
    stages = st.dictionaries(st.sampled_from(sorted(STAGES)) | text, fields | yaml_values, max_size=3)
    doc = st.fixed_dictionaries({}, optional={"defaults": fields | yaml_values, "stages": stages | yaml_values})
    return (doc | yaml_values).map(_yaml)


DTYPES = ["F32", "F16", "BF16", "I64", "U8", "BOOL", "F8_E4M3", "C64", "X9"]


@st.composite
def _weight_header(draw) -> bytes:
    """A safetensors header (8-byte length, JSON) of tensors whose names, dtypes, shapes and offsets take any value."""
    names = st.sampled_from(["delimiters", "projectors.pose.0.weight", "encoder.weight", "__metadata__"]) | text
    shape = st.lists(st.integers(-2, 2**40) | st.integers(0, 64), max_size=4)
    offsets = st.lists(st.integers(-5, 2**40) | st.integers(0, 4096), min_size=0, max_size=3)
    entry = st.fixed_dictionaries({"dtype": st.sampled_from(DTYPES) | text, "shape": shape, "data_offsets": offsets})
    doc = draw(st.dictionaries(names, entry | json_values(), max_size=4))
    body = json.dumps(doc).encode()
    length = draw(st.just(len(body)) | st.integers(0, 2**64 - 1))
    return length.to_bytes(8, "little") + body


def weight_headers():
    return _weight_header().map(lambda b: b"\x01" + b)  # the encoder's model.safetensors


def checkpoints():
    keys = (
        st.sampled_from(["format", "llm", "hidden_size", "vocab_size", "streams", "connector", "lora", "step"]) | text
    )
    meta = st.dictionaries(keys, json_values(keys), max_size=6).map(lambda d: b"\x00" + json.dumps(d).encode())
    return meta | _weight_header().map(lambda b: b"\x02" + b)


def exports():
    from signllava.model.hub import EXPORT_FORMAT

    keys = st.sampled_from(["format", "kind", "config", "meta", "poses"]) | text
    config = st.fixed_dictionaries(
        {"format": st.just(EXPORT_FORMAT), "kind": st.sampled_from(["signllava", "encoder"]) | json_scalars},
        optional={"config": json_values(keys), "meta": json_values(keys)},
    )
    doc = config | json_values(keys)
    return doc.map(lambda d: b"\x00" + json.dumps(d).encode()) | _weight_header().map(lambda b: b"\x01" + b)


@st.composite
def keypoint_files(draw) -> bytes:
    """The original's keypoint JSON: frame keys (numbers, with gaps, twice, not numbers), parts present, absent
    or of another type, point counts right and wrong, points of 2 to 5 numbers, numbers at the edges."""
    counts = {"pose_landmarks": 33, "face_landmarks": 468, "left_hand_landmarks": 21, "right_hand_landmarks": 21}
    number = st.floats(-100, 100, allow_subnormal=False) | st.sampled_from([0, 1, -1, 1.5, 1e308, 65536, 2**63])
    point = st.lists(number | json_scalars, min_size=2, max_size=5)

    def part(name: str):
        n = counts[name]
        sizes = st.sampled_from([0, n, n - 1, n + 10 if name == "face_landmarks" else n + 1, 1])
        fixed = st.tuples(sizes, point).map(lambda s: [s[1]] * s[0])  # one point repeated: small to draw
        return fixed | st.lists(point, max_size=3) | json_values()

    frame = st.fixed_dictionaries({name: part(name) for name in counts}) | json_values()
    keys = st.sampled_from(["0", "1", "2", "3", "01", "-1", "x", "1.0", " 2", "٣"]) | text
    joints = st.dictionaries(keys, frame, max_size=4)
    doc = draw(st.fixed_dictionaries({"joints": joints}) | json_values())
    return json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", errors="surrogatepass")
