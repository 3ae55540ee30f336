"""CSL-Daily from files laid out as its release lays them out (made here): the table, the pickle, the split."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from pose.errors import InputError
from signllava.data.datasets import read_metadata, recognize
from signllava.data.streams import DataConfig, StreamInput, data_language, load_sentences
from tests.conftest import Payload

TABLE = "index|name|length|gloss|char|word|postag\n"
# (name, split, glosses, characters)
ROWS = [
    ("S000000_P0000_T00", "train", "他 家 有 什么", "他 家 里 有 什 么 ？"),
    ("S000001_P0001_T00", "train", "我 学校 去", "我 去 学 校"),
    ("S000002_P0002_T00", "train", "今天 天气 好", "今 天 天 气 很 好"),
    ("S000003_P0003_T00", "dev", "你 名字 什么", "你 叫 什 么 名 字 ？"),
    ("S000004_P0004_T00", "test", "谢谢", "谢 谢"),
]


def release(root: Path, rows=ROWS) -> Path:
    """sentence_label/{video_map.txt, split_1.txt, csl2020ct_v2.pkl} as the release ships them."""
    labels = root / "sentence_label"
    labels.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{i}|{name}|{40 + i}|{g}|{c}|{c}|{' '.join('n' * len(c.split()))}\n" for i, (name, _, g, c) in enumerate(rows)
    ]
    (labels / "video_map.txt").write_text(TABLE + "".join(lines), encoding="utf-8")
    (labels / "split_1.txt").write_text("name|split\n" + "".join(f"{n}|{s}\n" for n, s, *_ in rows), encoding="utf-8")
    info = [
        {
            "name": n,
            "length": 40,
            "label_gloss": g.split(),
            "label_char": c.split(),
            "label_word": c.split(),
            "signer": 0,
        }
        for n, _, g, c in rows
    ]
    with open(labels / "csl2020ct_v2.pkl", "wb") as f:
        pickle.dump({"info": info, "gloss_map": sorted({w for _, _, g, _ in rows for w in g.split()})}, f)
    return labels


def test_the_table_and_the_split_file_are_sentences_in_chinese(tmp_path):
    labels = release(tmp_path)
    assert recognize(labels / "video_map.txt").name == "csl-daily" == recognize(labels / "split_1.txt").name
    data = DataConfig(metadata=[str(labels / "video_map.txt"), str(labels / "split_1.txt")])
    assert data_language(data) == "csl-zh"
    train = load_sentences(data, "train")
    assert [s.text for s in train] == ["他家里有什么？", "我去学校", "今天天气很好"]  # characters joined
    assert train[0].glosses == ("他", "家", "有", "什么") and train[0].video_id == train[0].sentence_name
    assert [s.sentence_name for s in load_sentences(data, "val")] == ["S000003_P0003_T00"]
    # the split file beside the table is found on its own
    alone = load_sentences(DataConfig(metadata=[str(labels / "video_map.txt")]), "test")
    assert [s.text for s in alone] == ["谢谢"]


def test_the_pickle_gives_the_same_sentences(tmp_path):
    labels = release(tmp_path)
    from_table, _ = read_metadata([labels / "video_map.txt"])
    from_pickle, pair = read_metadata([labels / "csl2020ct_v2.pkl"])
    assert pair == "csl-zh"
    assert [(s.sentence_name, s.text, s.glosses, s.split) for s in from_pickle.kept] == [
        (s.sentence_name, s.text, s.glosses, s.split) for s in from_table.kept
    ]


def test_a_pickle_that_asks_for_code_is_refused_and_never_runs(tmp_path):
    labels = release(tmp_path)
    marker = tmp_path / "ran"
    with open(labels / "csl2020ct_v2.pkl", "wb") as f:
        pickle.dump({"info": [Payload(marker)]}, f)
    with pytest.raises(
        InputError, match=r"csl2020ct_v2\.pkl: not read: it names (posix|os|nt)\.system, and only plain"
    ):
        read_metadata([labels / "csl2020ct_v2.pkl"])
    assert not marker.exists()
    with open(labels / "csl2020ct_v2.pkl", "wb") as f:
        pickle.dump([1, 2], f)
    with pytest.raises(InputError, match='not CSL-Daily annotations: expected a dict with an "info" list'):
        read_metadata([labels / "csl2020ct_v2.pkl"])


def test_split_and_table_rows_that_do_not_fit_are_dropped_with_why(tmp_path):
    labels = release(tmp_path)
    with open(labels / "split_1.txt", "a", encoding="utf-8") as f:
        f.write("S999999_P0000_T00|holdout\n")  # not a split
    with open(labels / "video_map.txt", "a", encoding="utf-8") as f:
        f.write("9|S000009_P0000_T00|40|好|好\n")  # cut short
        f.write("10|S000010_P0000_T00|40|好|好|好|a\n")  # no split row
    report, _ = read_metadata([labels / "video_map.txt", labels / "split_1.txt"])
    assert sorted(d.reason for d in report.dropped) == [
        "malformed row: 5 fields, expected 7",
        "malformed split row: 'S999999_P0000_T00|holdout'",
        "not in the split file",
    ]
    (tmp_path / "alone").mkdir()
    shutil.copy(labels / "video_map.txt", tmp_path / "alone" / "video_map.txt")
    with pytest.raises(InputError, match="no split file: give CSL-Daily's split_1.txt"):
        read_metadata([tmp_path / "alone" / "video_map.txt"])


def test_train_and_evaluate_on_the_release_layout(llm_dir, synth, tmp_path):
    from signllava.evaluate import EvalConfig, evaluate
    from signllava.model.build import TrainConfig, TrainOptim, trained_config
    from signllava.model.model import ModelConfig, StreamConfig
    from signllava.train import train

    labels = release(tmp_path)
    poses = tmp_path / "poses"  # extract-poses of the frame folders names them <name>.pose
    poses.mkdir()
    for (name, *_), clip in zip(ROWS, sorted((synth / "poses").rglob("*.pose")), strict=False):
        shutil.copy(clip, poses / f"{name}.pose")
    cfg = TrainConfig(
        model=ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(208, stride=4)}),
        data=DataConfig(
            metadata=[str(labels / "csl2020ct_v2.pkl"), str(labels / "split_1.txt")],
            streams={"pose": StreamInput(poses=str(poses))},
        ),
        optim=TrainOptim(max_steps=2, batch_size=2, warmup_ratio=0.0),
        output_dir=str(tmp_path / "run"),
        device="cpu",
    )
    with pytest.warns(UserWarning, match="ask about English words: not drawn for Chinese data"):
        assert train(cfg, progress=False)["steps"] == 2
    assert trained_config(tmp_path / "run" / "last").model.language == "csl-zh"
    report = evaluate(
        EvalConfig(checkpoint=str(tmp_path / "run" / "last"), split="val", num_beams=1, max_new_tokens=4, qa=[]),
        progress=False,
    )
    t = report["translation"]
    assert report["sentences"] == 1 and t["language"] == "zh" and "tok:zh" in t["bleu_signature"]
    assert t["rouge_units"] == "chars" and report["hypotheses"][0]["reference"] == "你叫什么名字？"
