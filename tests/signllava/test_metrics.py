from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from signllava.metrics import collapse_metrics, effective_rank, gloss_wer, translation_metrics, yes_no_metrics

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
