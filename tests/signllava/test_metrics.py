from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import torch

from signllava.metrics import collapse_metrics, effective_rank, gloss_wer, translation_metrics, yes_no_metrics
from tests.conftest import REALDATA

HYPS = ["the cat sat on the mat", "I went to the store yesterday", "hello world", "good morning to you"]
REFS = ["the cat sat on a mat", "Yesterday I went to the store.", "hello there world", "good morning"]


def test_agrees_with_sacrebleu_cli(tmp_path):
    (tmp_path / "hyp.txt").write_text("\n".join(HYPS) + "\n")
    (tmp_path / "ref.txt").write_text("\n".join(REFS) + "\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sacrebleu",
            str(tmp_path / "ref.txt"),
            "-i",
            str(tmp_path / "hyp.txt"),
            "-m",
            "bleu",
            "chrf",
            "-b",
            "-w",
            "4",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    bleu, chrf = json.loads(out.stdout)  # with -b the CLI prints a JSON list of scores
    ours = translation_metrics(HYPS, REFS)
    assert ours["bleu4"] == pytest.approx(bleu, abs=1e-3) and ours["chrf"] == pytest.approx(chrf, abs=1e-3)
    assert ours["bleu1"] > ours["bleu4"]
    assert translation_metrics(REFS, REFS)["rougeL"] == pytest.approx(100)


def test_collapse_and_yes_no():
    c = collapse_metrics(["a b", "a b", "a b", "c d"])
    assert c["repetition_rate"] == 0.75 and c["most_common_output"] == "a b"
    assert c["distinct1"] == pytest.approx(4 / 8)
    m = yes_no_metrics(["yes", "no", "yes, no", "Yes."], ["yes", "yes", "yes, yes", "no"])
    assert m["n"] == 5 and m["accuracy"] == pytest.approx(40) and m["f1"] == pytest.approx(100 * 4 / 7)


def test_effective_rank():
    torch.manual_seed(0)
    collapsed = torch.ones(50, 16) + 1e-6 * torch.randn(50, 16)
    spread = torch.randn(500, 16)
    assert effective_rank(spread) > 12
    assert effective_rank(torch.cat([collapsed, collapsed + 5])) < effective_rank(spread) / 4


def test_exact_translations_and_gloss_wer():
    assert translation_metrics(HYPS, REFS)["exact"] == 0 and translation_metrics(REFS, REFS)["exact"] == 4
    got = gloss_wer([["I", "GO"], ["STORE", "I", "GO"], []], [["I", "GO"], ["STORE", "YOU", "GO", "NOT"], ["QM"]])
    assert got == {"wer": pytest.approx(100 * 3 / 7), "exact": pytest.approx(100 / 3), "n": 3}


def test_same_words_ignores_case_and_punctuation_only():
    from signllava.metrics import same_words

    assert same_words("they don't go to the party", "They don't go to the party.")
    assert not same_words("They go to the party.", "They want to go to the party.")
    assert not same_words("You are tired.", "Are you tired?")  # the order of the words counts


# German pairs as PHOENIX-2014T releases its text (lowercase, tokenized)
DE_HYPS = ["aber erfreuliche nachricht .", "morgen wird es im süden sonnig ."]
DE_REFS = ["aber eine erfreuliche nachricht .", "morgen im süden sonnig ."]


def test_both_bleu_conventions_are_named_and_match_sacrebleu(tmp_path):
    import sacrebleu

    ours = translation_metrics(DE_HYPS, DE_REFS, "de")
    assert ours["bleu4"] == pytest.approx(sacrebleu.corpus_bleu(DE_HYPS, [DE_REFS]).score)
    assert ours["raw_bleu4"] == pytest.approx(sacrebleu.raw_corpus_bleu(DE_HYPS, [DE_REFS]).score)
    assert "tok:13a" in ours["bleu_signature"] and "smooth:exp" in ours["bleu_signature"]
    assert "tok:none" in ours["raw_bleu_signature"] and "smooth:floor[0.10]" in ours["raw_bleu_signature"]
    # on text already tokenized as PHOENIX's is, the two agree
    assert ours["raw_bleu4"] == pytest.approx(ours["bleu4"])
    # umlauts count as letters in ROUGE (rouge_score's own tokenizer would drop "süden")
    assert ours["rougeL"] == pytest.approx(100 * (2 * 3 / (3 + 4) + 2 * 4 / (6 + 4)) / 2)  # LCS 3 of 3/4, 4 of 6/4


def test_chinese_is_scored_on_characters():
    import sacrebleu

    hyps, refs = ["今天天气很好", "我去学校"], ["今天天气好", "我去学校了"]
    ours = translation_metrics(hyps, refs, "zh")
    assert ours["bleu4"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs], tokenize="zh").score)
    assert "tok:zh" in ours["bleu_signature"] and ours["rouge_units"] == "chars"
    # ROUGE-L on characters: LCS 5 of 6 and 5 chars, 4 of 4 and 5
    f1 = [2 * 5 / (6 + 5), 2 * 4 / (4 + 5)]
    assert ours["rougeL"] == pytest.approx(100 * sum(f1) / 2)
    assert ours["raw_bleu4"] == 0  # the raw convention on unsegmented Chinese: one "word" a sentence
    with pytest.raises(ValueError, match="no tokenization for output language 'xx'"):
        translation_metrics(hyps, refs, "xx")


def test_english_figures_are_unchanged_by_the_language_option():
    assert translation_metrics(HYPS, REFS) == translation_metrics(HYPS, REFS, "en")
    assert translation_metrics(HYPS, REFS)["language"] == "en"


PHOENIX = REALDATA / "field" / "phoenix14t"


@pytest.mark.skipif(not PHOENIX.is_dir(), reason="needs ../shared/realdata/field/phoenix14t")
def test_the_real_phoenix_dev_set_scored_under_both_conventions():
    """The 519 dev references as PHOENIX-2014T papers score them (lowercase, tokenized), against a baseline
    nobody here wrote: the dev glosses themselves, lower-cased (a "gloss copy" system). On text tokenized
    like this the two BLEU conventions agree; on the same references detokenized they part (13a splits
    "sonne." again, the raw convention does not)."""
    refs = (PHOENIX / "phoenix2014T.dev.de").read_text(encoding="utf-8").splitlines()
    hyps = [g.lower() for g in (PHOENIX / "phoenix2014T.dev.gloss").read_text(encoding="utf-8").splitlines()]
    assert len(refs) == len(hyps) == 519
    m = translation_metrics(hyps, refs, "de")
    assert m["bleu4"] == pytest.approx(1.72, abs=0.01) and m["raw_bleu4"] == pytest.approx(m["bleu4"], abs=0.01)
    assert m["bleu1"] == pytest.approx(13.05, abs=0.01) and m["raw_bleu1"] == pytest.approx(13.01, abs=0.01)
    detok = [re.sub(r" ([.,?!])", r"\1", r) for r in refs]
    apart = translation_metrics(hyps, detok, "de")
    assert apart["bleu1"] == pytest.approx(m["bleu1"], abs=0.01) and apart["raw_bleu1"] < m["raw_bleu1"] - 0.1
