"""Keyword questions as the original asks them: where the annotation gives a clip ``keywords``, its sign-present
and multi-word questions ask about them, with negatives from the split's keyword vocabulary."""

from __future__ import annotations

import json
import random
import re

import pytest

from signllava.data.how2sign import Sentence, read_manifest, write_manifest
from signllava.data.jsalt import read_annotations
from signllava.data.streams import DataConfig, StreamInput
from signllava.data.tasks import QUESTIONS, TaskBuilder, TaskWeights, keyword_forms, question_word
from signllava.inference.questions import parse_question
from tests.conftest import realdata
from tests.pretrain.test_jsalt import original_layout
from tests.signllava.conftest import config
from tests.signllava.data.test_jsalt import annotation_file


def asked(question: str) -> list[str]:
    """The words a sign-present question asks about, read back as ``ask`` reads them."""
    return list(parse_question(question).words)


def holds(sentence: Sentence, word: str) -> bool:
    texts = "\n".join(question_word(t) for t in (sentence.text, *sentence.paraphrases))
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", texts) is not None


def check_keyword_questions(sentences: list[Sentence], draws: int) -> dict[str, int]:
    """Every drawn word question of a clip with keywords asks its keywords (yes) or another clip's keyword that
    its texts do not hold (no); returns how many of each answer were seen."""
    builder = TaskBuilder(sentences, seed=1)
    vocabulary = set(builder.keyword_vocabulary)
    rng, seen = random.Random(0), {"yes": 0, "no": 0}
    for _ in range(draws):
        s = rng.choice(sentences)
        own = set(keyword_forms(s.keywords))
        for task in ("sign_present", "signs_present"):
            made = builder.make(s, task, rng)
            if made is None:
                assert not own
                continue
            words, answers = asked(made.question), made.answer.split(", ")
            assert len(words) == len(answers)
            for word, answer in zip(words, answers, strict=True):
                if not own:
                    continue  # a clip without keywords: the sentence's content words, as before
                assert word in vocabulary
                assert answer == ("yes" if word in own else "no"), (s.sentence_name, word, answer)
                if answer == "no":
                    assert not holds(s, word)
                seen[answer] += 1
    return seen


def test_the_originals_youtube_asl_annotations_ask_their_keywords():
    path = realdata("field", "youtube_asl", "YT.annotations.subset.json")
    sentences = read_annotations(path, split="train")
    doc = json.loads(path.read_text())
    assert len(sentences) == 1033
    first = sentences[0]
    assert first.sentence_name == "--7t6QjMwpY/--7t6QjMwpY.000122-000407"
    assert first.keywords == ("telehealth", "September")
    with_keywords = [s for s in sentences if s.keywords]
    clips = [c for v in doc.values() for c in v["clip_order"] if v[c]["keywords"]]
    assert len(with_keywords) == len(clips) == 972
    seen = check_keyword_questions(sentences, draws=600)
    assert seen["yes"] > 100 and seen["no"] > 100
    # a multi-word keyword is asked as one, and `ask` reads it back as one
    phrase = next(s for s in sentences if "physical distancing" in keyword_forms(s.keywords))
    builder = TaskBuilder(sentences, seed=1)
    rng = random.Random(5)
    questions = [builder.make(phrase, "sign_present", rng).question for _ in range(40)]
    assert any(asked(q) == ["physical distancing"] for q in questions)


def test_keywords_a_question_cannot_carry_are_left_out_and_held_words_never_asked_absent():
    assert keyword_forms(["Telehealth", "  New   Orleans ", "Q and A", "one, two", "why?", "telehealth", "God's"]) == (
        "telehealth",
        "new orleans",
        "god's",
    )
    sentences = [
        Sentence("v", "v", "c1", "v/c1", 0, 0, "We meet in person at the recovery center.", keywords=("in person",)),
        # says "recovery center" (c1's ... no: c3's keyword) without it being its own keyword
        Sentence("v", "v", "c2", "v/c2", 0, 0, "The Recovery Center opens at noon.", keywords=("noon",), order=1),
        Sentence("v", "v", "c3", "v/c3", 0, 0, "Call the Recovery Center.", keywords=("recovery center",), order=2),
        Sentence("v", "v", "c4", "v/c4", 0, 0, "A plain sentence without keywords here.", order=3),
    ]
    seen = check_keyword_questions(sentences, draws=300)
    assert seen["yes"] and seen["no"]
    builder = TaskBuilder(sentences, seed=0)
    assert builder.keyword_vocabulary == ["in person", "noon", "recovery center"]
    rng = random.Random(0)
    # c2 holds "recovery center" and "noon": its only absent keyword is "in person"
    absent = {
        w
        for _ in range(50)
        for t in builder.sign_present_pair(sentences[1], rng)
        if t.answer == "no"
        for w in asked(t.question)
    }
    assert absent == {"in person"}
    # a clip without keywords is asked about its content words, as before keywords existed
    plain = {
        w
        for _ in range(50)
        for t in builder.sign_present_pair(sentences[3], rng)
        if t.answer == "yes"
        for w in asked(t.question)
    }
    assert plain <= {"plain", "sentence", "without", "keywords"}


def test_a_manifest_keeps_the_keywords(tmp_path):
    sentences = [
        Sentence("v", "v", "c1", "v/c1", 0, 0, "in person", split="train", keywords=("in person", "COVID-19")),
        Sentence("v", "v", "c2", "v/c2", 0, 0, "no words", split="train", order=1),
    ]
    path = write_manifest(sentences, tmp_path / "m.tsv", dataset="jsalt")
    back = {s.sentence_name: s for s in read_manifest(path)}
    assert back["v/c1"].keywords == ("in person", "COVID-19") and back["v/c2"].keywords == ()


def keyword_annotations(folder, features, split):
    """The test's annotation JSON with two keywords per clip, each a word of its translation."""
    path, texts = annotation_file(folder, features, split=split)
    doc = json.loads(path.read_text())
    rng = random.Random(split)
    for (video, clip), text in texts.items():
        doc[video][clip]["keywords"] = rng.sample(sorted(set(text.split()) - {"the", "and", "to", "we", "its"}), 2)
    path.write_text(json.dumps(doc))
    return path, doc


def test_train_evaluate_and_ask_keyword_questions(llm_dir, tmp_path):
    from pretrain import import_jsalt
    from signllava.evaluate import EvalConfig, evaluate
    from signllava.inference.translator import check_question
    from signllava.train import train

    train_dir, train_features = original_layout(tmp_path / "h5", videos=(3, 2, 4))
    dev_dir, dev_features = original_layout(tmp_path / "h5", split="dev", videos=(4, 2), first_video=20)
    train_json, _ = keyword_annotations(tmp_path, train_features, "train")
    dev_json, dev_doc = keyword_annotations(tmp_path, dev_features, "dev")
    store = tmp_path / "store"
    import_jsalt(train_dir / "pose.train.0.h5", store, "pose")
    import_jsalt(dev_dir / "pose.dev.0.h5", store, "pose")
    data = DataConfig(metadata=[str(train_json), str(dev_json)], streams={"pose": StreamInput(store=str(store))})
    data.tasks = TaskWeights(translate=1.0, sign_present=0.5, signs_present=0.5, reversed=0.0)
    train(config(llm_dir, data, tmp_path / "run", steps=2), progress=False)
    checkpoint = str(tmp_path / "run" / "last")
    report = evaluate(
        EvalConfig(
            checkpoint=checkpoint, split="val", num_beams=1, max_new_tokens=4, qa=["sign_present", "signs_present"]
        ),
        progress=False,
    )
    pair = report["qa"]["sign_present"]
    # one keyword and one other clip's keyword per clip (a clip whose texts hold every other keyword has no
    # absent one, and is not asked), all of them keyword questions
    assert 8 <= pair["n"] == pair["keyword_questions"]["n"] <= 12 and pair["n"] % 2 == 0
    assert report["qa"]["signs_present"]["keyword_questions"]["n"] == report["qa"]["signs_present"]["n"] > 0
    rows = [r for r in report["qa_answers"]["sign_present"] if r["answer"] == "yes"]
    for row in rows:
        video, clip = row["sentence_name"].split("/")
        assert asked(row["question"])[0] in [k.lower() for k in dev_doc[video][clip]["keywords"]]
    # `ask` takes a keyword question (several at once too) of a model trained on them, before it loads
    keywords = [k.lower() for k in dev_doc["video_20"]["clip_1"]["keywords"]]
    question = QUESTIONS["signs_present"].format(words=f"'{keywords[0]}', '{keywords[1]}'")
    assert check_question(checkpoint, question).words == tuple(keywords)
    assert check_question(checkpoint, f"Is the sign '{keywords[0]}' present?").task == "sign_present"


@pytest.mark.parametrize("keywords", ["telehealth", [1, 2], {"a": "b"}])
def test_keywords_not_a_list_of_strings_is_one_line(tmp_path, keywords):
    from pose.errors import InputError

    path = tmp_path / "annotation.train.json"
    path.write_text(json.dumps({"v": {"clip_order": ["c"], "c": {"translation": "hello", "keywords": keywords}}}))
    with pytest.raises(InputError, match="clip 'c': keywords must be a list of strings"):
        read_annotations(path)


def test_a_split_with_no_sentences_says_which_splits_the_data_has(tmp_path):
    """The original's YouTube-ASL subset file names no split: training on it says so, instead of only "none"."""
    from pose.errors import InputError
    from signllava.data.streams import split_sentences

    unnamed = tmp_path / "YT.annotations.subset.json"
    unnamed.write_text(json.dumps({"v": {"clip_order": ["c"], "c": {"translation": "hello", "keywords": ["hello"]}}}))
    dev = tmp_path / "annotation.dev.json"
    dev.write_text(json.dumps({"w": {"clip_order": ["c"], "c": {"translation": "bye"}}}))
    data = DataConfig(metadata=[str(unnamed), str(dev)])
    with pytest.raises(
        InputError,
        match=r"no sentences in split 'train' .*: its sentences are in no split \(1\), 'val' \(1\); a file whose name",
    ):
        split_sentences(data, "train")
    assert [s.text for s in split_sentences(data, "val")] == ["bye"]
