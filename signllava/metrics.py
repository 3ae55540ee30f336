"""Metrics as the field reports them, plus the collapse checks the original system needed.

Translation: sacreBLEU BLEU-1..4 and chrF with their signatures, ROUGE-L (F1), all 0-100, and the
sentences translated exactly. Recognition: gloss word error rate (a CTC gloss head's output).
QA: accuracy and F1 of "yes" for yes/no answers (multi-word answers count per word).
Collapse: repetition rate (share of outputs equal to the most frequent output), distinct-1/2,
and the effective rank of the projected sign tokens (exp of the entropy of their normalized
singular values: 1 means every token points the same way).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from pretrain.stats import effective_rank  # noqa: F401  (re-exported: the collapse check of sign tokens)


def translation_metrics(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU, CHRF

    out: dict = {}
    for n in (1, 2, 3, 4):
        bleu = BLEU(max_ngram_order=n)
        out[f"bleu{n}"] = bleu.corpus_score(list(hypotheses), [list(references)]).score
        if n == 4:
            out["bleu_signature"] = str(bleu.get_signature())
    chrf = CHRF()
    out["chrf"] = chrf.corpus_score(list(hypotheses), [list(references)]).score
    out["chrf_signature"] = str(chrf.get_signature())
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    scores = [scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(hypotheses, references, strict=True)]
    out["rougeL"] = 100 * float(np.mean(scores)) if scores else 0.0
    out["exact"] = sum(h.strip() == r.strip() for h, r in zip(hypotheses, references, strict=True))
    return out


def same_words(hypothesis: str, reference: str) -> bool:
    """Whether a translation is the reference word for word, ignoring case and punctuation (the
    demo's and the decoding benchmarks' check; the ``exact`` count above compares the strings)."""
    return _words(hypothesis) == _words(reference)


def _words(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace() or c == "'").split())


def gloss_wer(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict:
    """Word error rate (0-100: substitutions + insertions + deletions over reference glosses) and
    the share of sequences recognized exactly."""
    from nltk.metrics.distance import edit_distance

    pairs = list(zip(predictions, references, strict=True))
    errors = sum(edit_distance(list(p), list(r)) for p, r in pairs)
    words = sum(len(r) for _, r in pairs)
    exact = sum(list(p) == list(r) for p, r in pairs)
    return {"wer": 100 * errors / max(words, 1), "exact": 100 * exact / max(len(pairs), 1), "n": len(pairs)}


def collapse_metrics(hypotheses: Sequence[str]) -> dict:
    if not hypotheses:
        return {"repetition_rate": 0.0, "distinct1": 0.0, "distinct2": 0.0, "most_common_output": ""}
    counts = Counter(h.strip() for h in hypotheses)
    top, n_top = counts.most_common(1)[0]
    out = {"repetition_rate": n_top / len(hypotheses), "most_common_output": top}
    for n in (1, 2):
        grams = [tuple(w[i : i + n]) for h in hypotheses for w in [h.split()] for i in range(len(w) - n + 1)]
        out[f"distinct{n}"] = len(set(grams)) / len(grams) if grams else 0.0
    return out


def yes_no_metrics(predictions: Sequence[str], answers: Sequence[str]) -> dict:
    """Accuracy and F1 (positive class "yes") over yes/no answers, word by word."""
    pairs = []
    for p, a in zip(predictions, answers, strict=True):
        gold = [x.strip().lower() for x in a.split(",")]
        pred = [x.strip().strip(".").lower() for x in p.split(",")]
        pred += [""] * (len(gold) - len(pred))
        pairs += list(zip(pred[: len(gold)], gold, strict=True))
    if not pairs:
        return {"accuracy": 0.0, "f1": 0.0, "n": 0}
    correct = sum(p == g for p, g in pairs)
    tp = sum(p == "yes" and g == "yes" for p, g in pairs)
    fp = sum(p == "yes" and g != "yes" for p, g in pairs)
    fn = sum(p != "yes" and g == "yes" for p, g in pairs)
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"accuracy": 100 * correct / len(pairs), "f1": 100 * f1, "n": len(pairs)}
