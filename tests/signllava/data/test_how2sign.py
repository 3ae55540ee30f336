from __future__ import annotations

import pytest

from pose.errors import InputError
from signllava.data.how2sign import (
    Sentence,
    by_video,
    check_metadata,
    find_media,
    fix_mojibake,
    read_manifest,
    read_realigned,
    split_of,
    write_manifest,
)
from tests.conftest import realdata, write_video

HEADER = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE"


def write(path, rows, header=HEADER, newline="\r\n"):
    path.write_text(newline.join([header, *rows]) + newline, encoding="utf-8")
    return path


@pytest.mark.parametrize("name,rows", [("how2sign_realigned_val.csv", 1741), ("how2sign_realigned_test.csv", 2357)])
def test_official_files_parse(name, rows):
    sentences, bad = read_realigned(realdata("how2sign_metadata", name))
    assert len(sentences) == rows and not bad
    assert {s.split for s in sentences} == {name.split("_")[-1][:-4]}
    assert any(s.video_id.startswith("-") for s in sentences)  # IDs that look like options survive


def test_quoted_fields_with_doubled_quotes():
    sentences, _ = read_realigned(realdata("how2sign_metadata", "how2sign_realigned_test.csv"))
    texts = {s.sentence_name: s.text for s in sentences}
    assert texts["G19uBylwQww_13-2-rgb_front"] == '"Oops, let\'s get our tip right".'
    assert not any(t.startswith('"') and t.endswith('"') and t.count('"') == 2 for t in texts.values())


def test_train_subset_and_check_report():
    path = realdata("how2sign", "how2sign_train_subset.tsv")
    report = check_metadata([path])
    assert len(report.kept) == 30 and report.read["train"] == 30
    videos = by_video(report.kept)
    assert all(v[i].start <= v[i + 1].start for v in videos.values() for i in range(len(v) - 1))


def test_mojibake_repaired(tmp_path):
    assert fix_mojibake("Itâ€™s fine") == "It’s fine"
    assert fix_mojibake("naïve café") == "naïve café"
    path = write(tmp_path / "m_train.csv", ["v\tv-1\tv_0\tv_0-1\t0\t1\tDonâ€™t stop"])
    assert read_realigned(path)[0][0].text == "Don’t stop"


def test_comma_separated_lf_variant(tmp_path):
    path = write(
        tmp_path / "x_val.csv",
        ['-a,-a-1,-a_0,-a_0-1,1.5,2.5,"Hello, world"'],
        header=HEADER.replace("\t", ","),
        newline="\n",
    )
    (s,), bad = read_realigned(path)
    assert (s.video_id, s.text, s.start, s.end, s.split) == ("-a", "Hello, world", 1.5, 2.5, "val")


def test_bad_rows_are_dropped_with_reasons(tmp_path):
    rows = [
        "v\tv-1\tv_0\tv_0-1\t0\t2\tgood one",
        "v\tv-1\tv_1\tv_0-1\t3\t4\tduplicate name",
        "v\tv-1\tv_2\tv_2-1\t5\t5\tzero length",
        "v\tv-1\tv_3\tv_3-1\t7\t6\tinverted",
        "v\tv-1\tv_4\tv_4-1\t8\t8.03\ttoo short",
        "v\tv-1\tv_5\tv_5-1\tabc\t9\tnot a number",
        "v\tv-1\tv_6\tv_6-1\t9",
        "v\tv-1\tv_7\tv_7-1\t10\t12\t",
    ]
    report = check_metadata([write(tmp_path / "h_train.csv", rows)])
    assert [s.sentence_name for s in report.kept] == ["v_0-1"]
    reasons = {d.row: d.reason for d in report.dropped}
    assert reasons[3].startswith("duplicate name") and reasons[4].startswith("bad interval")
    assert reasons[5].startswith("bad interval") and reasons[6].startswith("too short")
    assert reasons[7].startswith("malformed row") and reasons[8].startswith("malformed row")
    assert reasons[9] == "empty sentence"
    assert "dropped: 2 x malformed row" in report.summary()


def test_media_durations_clip_and_missing(tmp_path):
    videos = tmp_path / "videos"
    write_video(videos / "v-1.mp4", frames=50, fps=25)  # a 2 s full video
    write_video(videos / "w_0-1.mp4", frames=10, fps=25)  # a pre-cut clip
    rows = [
        "v\tv-1\tv_0\tv_0-1\t0.5\t1.5\tinside",
        "v\tv-1\tv_1\tv_1-1\t1.5\t3.0\truns past the end",
        "v\tv-1\tv_2\tv_2-1\t2.5\t3.0\tstarts after the end",
        "w\tw-1\tw_0\tw_0-1\t10\t11\tpre-cut clip",
        "x\tx-1\tx_0\tx_0-1\t0\t1\tno media",
    ]
    meta = write(tmp_path / "h_test.csv", rows)
    sentences, _ = read_realigned(meta)
    durations, media = find_media(sentences, videos)
    report = check_metadata([meta], durations)
    kept = {s.sentence_name: s for s in report.kept}
    assert set(kept) == {"v_0-1", "v_1-1", "w_0-1"}
    assert kept["v_1-1"].end == pytest.approx(2.0) and report.clipped == 1
    reasons = {d.sentence_name: d.reason for d in report.dropped}
    assert reasons["v_2-1"].startswith("past the end") and reasons["x_0-1"].startswith("missing video")
    out = write_manifest(report.kept, tmp_path / "manifest.tsv", media)
    back = read_manifest(out)
    assert [s.sentence_name for s in back] == ["v_0-1", "v_1-1", "w_0-1"]
    assert back[0].sentence_id == "v_0" and back[0].split == "test"
    assert all(not s.glosses and not s.paraphrases for s in back)


def test_manifest_keeps_glosses_and_paraphrases(tmp_path):
    sentences = [
        Sentence("a", "a-1", "a_0", "a_0-1", 0.0, 1.0, "I go.", "train", glosses=("I", "GO"), paraphrases=("Me go.",)),
        Sentence("a", "a-1", "a_1", "a_1-1", 1.0, 2.0, "Hi.", "train", paraphrases=("Hello.", "Hey\tthere.")),
    ]
    back = read_manifest(write_manifest(sentences, tmp_path / "m.tsv"))
    assert [(s.glosses, s.paraphrases) for s in back] == [
        (("I", "GO"), ("Me go.",)),
        ((), ("Hello.", "Hey\tthere.")),
    ]


def test_missing_columns_and_files(tmp_path):
    with pytest.raises(InputError, match="nothing.csv: metadata file not found"):
        read_realigned(tmp_path / "nothing.csv")
    bad = write(tmp_path / "bad.csv", ["1\t2"], header="A\tB")
    with pytest.raises(InputError, match=r"bad.csv: not How2Sign realigned metadata: missing column\(s\) VIDEO_ID"):
        read_realigned(bad)


def test_split_names():
    assert split_of("how2sign_realigned_train.csv") == "train" and split_of("x_dev.tsv") == "val"


def test_unknown_columns_are_reported(tmp_path):
    path = write(
        tmp_path / "x_train.csv",
        ["v\tv-1\tv_0\tv_0-1\t0\t1\thi\textra\tA paraphrase"],
        header=HEADER + "\tGLOSS\tSENTENCE_PARAPHRASE_1",
    )
    report = check_metadata([path])
    assert report.kept[0].paraphrases == ("A paraphrase",)
    assert f"ignored: {path}: unknown column(s) GLOSS" in report.summary()


def test_glosses_column_is_read(tmp_path):
    path = write(
        tmp_path / "x_train.csv",
        ["v\tv-1\tv_0\tv_0-1\t0\t1\thi\tYESTERDAY  STORE I GO", "v\tv-1\tv_1\tv_1-1\t1\t2\tho\t"],
        header=HEADER + "\tGLOSSES",
    )
    report = check_metadata([path])
    assert [s.glosses for s in report.kept] == [("YESTERDAY", "STORE", "I", "GO"), ()]
    assert "unknown column" not in report.summary()


def test_a_json_file_given_as_metadata_is_quoted_by_an_excerpt(tmp_path):
    """A JSON file is one "line": its header quoted whole would be the whole file."""
    import json

    path = tmp_path / "annotations.json"
    path.write_text(json.dumps({f"video{i}": {"clip": "hello world " * 20} for i in range(2000)}))
    assert path.stat().st_size > 400_000
    with pytest.raises(InputError, match=r"missing column\(s\) VIDEO_ID") as err:
        read_realigned(path)
    found = str(err.value).split("(found ", 1)[1]
    assert len(found) <= 82 and found.endswith("…)")
