"""RWTH-PHOENIX-Weather 2014 T from files laid out as its release lays them out (made here), and its real sample."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pose.errors import InputError
from signllava.data.datasets import read_metadata, recognize
from signllava.data.phoenix import read_corpus
from signllava.data.streams import DataConfig, StreamInput, data_language, load_sentences
from signllava.data.tasks import ContextWindow, TaskBuilder
from tests.conftest import REALDATA

HEADER = "name|video|start|end|speaker|orth|translation\n"
FIELD = REALDATA / "field" / "phoenix14t"
RELEASE = FIELD / "annotations" / "PHOENIX-2014-T-release-v3" / "PHOENIX-2014-T"
# (split, name, glosses, German): two broadcasts in train, one in dev
ROWS = [
    ("train", "01April_2010_Thursday_heute-6694", "REGEN NORD", "im norden regnet es ."),
    ("train", "01April_2010_Thursday_heute-6696", "SONNE SUED", "im süden scheint die sonne ."),
    ("train", "01April_2010_Thursday_heute-6695", "WIND KUESTE", "an der küste weht wind ."),
    ("train", "02May_2010_Sunday_tagesschau-12", "MORGEN WARM", "morgen wird es warm ."),
    ("dev", "25October_2010_Monday_tagesschau-17", "REGEN SCHNEE", "regen und schnee ."),
    ("dev", "25October_2010_Monday_tagesschau-18", "NACHT KALT", "die nacht wird kalt ."),
    ("test", "27January_2011_Thursday_tagesschau-3", "FROST", "frost im osten ."),
]


def release(root: Path, rows=ROWS, frames: int = 2) -> Path:
    """The release's own layout: annotations/manual/*.corpus.csv and a folder of PNG frames per sentence."""
    import cv2
    import numpy as np

    manual = root / "annotations" / "manual"
    manual.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        lines = [
            f"{name}|{name}/1/*.png|-1|-1|Signer0{i % 3}|{glosses}|{text}\n"
            for i, (s, name, glosses, text) in enumerate(rows)
            if s == split
        ]
        (manual / f"PHOENIX-2014-T.{split}.corpus.csv").write_text(HEADER + "".join(lines))
    for split, name, *_ in rows:
        folder = root / "features" / "fullFrame-210x260px" / split / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(frames):
            cv2.imwrite(str(folder / f"images{i + 1:04d}.png"), np.full((260, 210, 3), 40 * i, np.uint8))
    return root


def corpus(root: Path, split: str) -> Path:
    return root / "annotations" / "manual" / f"PHOENIX-2014-T.{split}.corpus.csv"


def test_corpus_rows_are_sentences_ordered_within_their_broadcast(tmp_path):
    root = release(tmp_path / "PHOENIX-2014-T")
    assert recognize(corpus(root, "dev")).name == "phoenix14t"
    data = DataConfig(metadata=[str(corpus(root, s)) for s in ("train", "dev", "test")])
    assert data_language(data) == "dgs-de"
    train = load_sentences(data, "train")
    first = train[0]
    assert (first.video_id, first.sentence_name, first.order) == (
        "01April_2010_Thursday_heute",
        "01April_2010_Thursday_heute-6694",
        6694,
    )
    assert first.glosses == ("REGEN", "NORD") and first.text == "im norden regnet es ."
    assert [s.split for s in load_sentences(data, "val")] == ["val", "val"]  # dev is our val
    # context: the broadcast's earlier sentences in n's order (6694, 6695, 6696), not in file order
    builder = TaskBuilder(train, window=ContextWindow(prelude=1, preceding=1), seed=0)
    by_name = {s.sentence_name: s for s in train}
    assert builder.translation(by_name["01April_2010_Thursday_heute-6696"]).context == (
        "im norden regnet es .",
        "an der küste weht wind .",
    )
    assert builder.translation(by_name["02May_2010_Sunday_tagesschau-12"]).context == ()


def test_bad_rows_are_dropped_with_the_reason_and_bad_files_are_one_line(tmp_path):
    root = release(tmp_path / "r")
    path = corpus(root, "train")
    text = path.read_text()
    cut = text[: text.rindex("|")]  # the last row cut short, as a truncated download leaves it
    # found by fuzzing: a row without a name became a sentence named "" (every dataset without times drops it now)
    no_name = "|x|-1|-1|S|A B|a sentence of no name\n"
    path.write_text(cut + "\n" + "01April_2010_Thursday_heute-1|x|-1|-1|S|A B|\n" + no_name)
    report, pair = read_metadata([path])
    reasons = sorted(d.reason for d in report.dropped)
    assert reasons == ["empty sentence", "malformed row: 6 fields, expected 7", "malformed row: empty name"]
    assert pair == "dgs-de"
    assert len(report.kept) == 3
    (tmp_path / "PHOENIX-2014-T.train.corpus.csv").write_text("name,video\nx,y\n")
    with pytest.raises(InputError, match="not a PHOENIX-2014-T corpus file: its header must be name|video"):
        read_corpus(tmp_path / "PHOENIX-2014-T.train.corpus.csv")
    with pytest.raises(InputError, match="features: not a file of any dataset SignLLaVA reads"):
        read_metadata([root / "features"])


def signllava(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signllava", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_data_check_counts_and_finds_the_frame_folders(tmp_path):
    root = release(tmp_path / "r")
    shutil.rmtree(root / "features" / "fullFrame-210x260px" / "dev" / "25October_2010_Monday_tagesschau-18")
    done = signllava(
        "data", "check", corpus(root, "dev"), corpus(root, "train"), "--videos", root / "features",
        "-o", tmp_path / "m" / "manifest.tsv",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dataset: phoenix14t" in done.stdout and "dropped: 1 x missing video" in done.stdout
    manifest = (tmp_path / "m" / "manifest.tsv").read_text().splitlines()
    assert manifest[0].endswith("media\tGLOSSES\tDATASET\tORDER") and len(manifest) == 1 + 5
    assert "fullFrame-210x260px/train/01April_2010_Thursday_heute-6694\tREGEN NORD\tphoenix14t\t6694" in manifest[1]
    # the manifest keeps the dataset, so its language pair and the broadcast order
    sentences = load_sentences(DataConfig(metadata=[str(tmp_path / "m" / "manifest.tsv")]), "train")
    assert [s.order for s in sentences] == [6694, 6695, 6696, 12]
    assert data_language(DataConfig(metadata=[str(tmp_path / "m" / "manifest.tsv")])) == "dgs-de"


def test_train_evaluate_and_submit_on_the_release_layout(llm_dir, synth, tmp_path):
    """A tiny model on PHOENIX's files: poses named as extract-poses names them, German prompts, German metrics."""
    from pose.config_loader import save_config
    from signllava.cluster.launcher import submit
    from signllava.evaluate import EvalConfig, evaluate
    from signllava.model.build import TrainConfig, TrainOptim, trained_config
    from signllava.model.model import ModelConfig, StreamConfig
    from signllava.train import train

    root = release(tmp_path / "PHOENIX-2014-T")
    clips = sorted((synth / "poses").rglob("*.pose"))
    poses = tmp_path / "poses"
    for (split, name, *_), clip in zip(ROWS, clips, strict=False):  # extract-poses' names: <split>/<name>.pose
        (poses / split).mkdir(parents=True, exist_ok=True)
        shutil.copy(clip, poses / split / f"{name}.pose")
    data = DataConfig(
        metadata=[str(corpus(root, s)) for s in ("train", "dev")], streams={"pose": StreamInput(poses=str(poses))}
    )
    cfg = TrainConfig(
        model=ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(208, stride=4)}),
        data=data,
        optim=TrainOptim(max_steps=2, batch_size=2, warmup_ratio=0.0),
        ctc=0.5,  # the orth glosses feed the gloss CTC head
        output_dir=str(tmp_path / "run"),
        device="cpu",
    )
    with pytest.warns(UserWarning, match="sign_present, signs_present ask about English words: not drawn for German"):
        assert train(cfg, progress=False)["steps"] == 2
    trained = trained_config(tmp_path / "run" / "last")
    assert trained.model.language == "dgs-de" and "REGEN" in trained.model.glosses
    assert trained.data.tasks.sign_present == 0 and trained.data.tasks.reversed > 0
    report = evaluate(
        EvalConfig(
            checkpoint=str(tmp_path / "run" / "last"), split="val", num_beams=1, max_new_tokens=4, qa=["reversed"]
        ),
        progress=False,
    )
    t = report["translation"]
    assert (
        report["sentences"] == 2
        and t["language"] == "de"
        and report["qa"]["reversed"]["n"] == 4
        and "tok:13a" in t["bleu_signature"]
    )
    assert "tok:none" in t["raw_bleu_signature"]
    assert {h["reference"] for h in report["hypotheses"]} == {"regen und schnee .", "die nacht wird kalt ."}
    # the same stage through submit (in this process: no scheduler needed)
    save_config(cfg, tmp_path / "train.yaml")
    overrides = [f"output_dir={tmp_path / 'submitted'}", "optim.max_steps=1"]
    profile = Path(__file__).parents[3] / "slurm" / "local.yaml"
    job = submit("train", profile, tmp_path / "train.yaml", overrides, local=True)
    assert job.results[0][0]["steps"] == 1
    assert trained_config(tmp_path / "submitted" / "last").model.language == "dgs-de"


@pytest.mark.skipif(not FIELD.is_dir(), reason="needs ../shared/realdata/field/phoenix14t")
def test_the_real_release_sample_reads_checks_and_extracts(tmp_path):
    files = [RELEASE / "annotations" / "manual" / f"PHOENIX-2014-T.{s}.corpus.csv" for s in ("train", "dev", "test")]
    report, pair = read_metadata(files)
    assert pair == "dgs-de" and len(report.kept) == 1  # the sample repeats one row in each split file
    sentence = report.kept[0]
    assert sentence.sentence_name == "25October_2010_Monday_tagesschau-17" and sentence.order == 17
    assert sentence.glosses[:3] == ("REGEN", "SCHNEE", "REGION") and sentence.text.startswith("regen und schnee")
    assert [d.reason.split(":")[0] for d in report.dropped] == ["duplicate name", "duplicate name"]
    done = signllava("extract-poses", RELEASE / "features" / "fullFrame-210x260px" / "dev", "-o", tmp_path / "p", "-q")
    assert done.returncode == 0, done.stderr
    from pose.io import read_pose

    pose = read_pose(tmp_path / "p" / "25October_2010_Monday_tagesschau-17.pose")
    assert pose.body.fps == 25 and len(pose.body.data) == 2 and pose.header.dimensions.width == 210
