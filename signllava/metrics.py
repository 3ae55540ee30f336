"""Metrics as the field reports them, plus the collapse checks the original system needed.

Translation: sacreBLEU BLEU-1..4 and chrF with their signatures, ROUGE-L (F1), all 0-100, and the
sentences translated exactly, each with the output language's usual tokenization (:data:`TOKENIZATION`).
The field reports BLEU under two conventions, so both are computed and named (``benchmarks/RESULTS.md``
says which repositories use which): ``bleu1..4`` is sacreBLEU's ``corpus_bleu`` (its tokenizer, ``exp``
smoothing: the WMT convention, How2Sign's and YouTube-ASL's papers), ``raw_bleu1..4`` sacreBLEU's
``raw_corpus_bleu`` (no tokenization, ``floor`` smoothing 0.1, effective order: Sign Language
Transformers' ``signjoey`` and the PHOENIX-2014T papers built on it, which score text tokenized beforehand,
as PHOENIX's references are released). Recognition: gloss word error rate (a CTC gloss head's output).
QA: accuracy and F1 of "yes" for yes/no answers (multi-word answers count per word).
Collapse: repetition rate (share of outputs equal to the most frequent output), distinct-1/2,
and the effective rank of the projected sign tokens (exp of the entropy of their normalized
singular values: 1 means every token points the same way).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from pretrain.stats import effective_rank  # noqa: F401  (re-exported: the collapse check of sign tokens)

# output language -> (sacreBLEU tokenizer, ROUGE-L's units): Chinese is scored on characters (no spaces)
TOKENIZATION = {"en": ("13a", "words"), "de": ("13a", "words"), "zh": ("zh", "chars")}
RAW_BLEU = {"tokenize": "none", "smooth_method": "floor", "smooth_value": 0.1, "effective_order": True}


def translation_metrics(hypotheses: Sequence[str], references: Sequence[str], language: str = "en") -> dict:
    from sacrebleu.metrics import BLEU, CHRF

    if language not in TOKENIZATION:
        raise ValueError(f"no tokenization for output language {language!r} (known: {', '.join(TOKENIZATION)})")
    tokenize, units = TOKENIZATION[language]
    hyps, refs = list(hypotheses), [list(references)]
    out: dict = {"language": language}
    for prefix, settings in (("bleu", {"tokenize": tokenize}), ("raw_bleu", RAW_BLEU)):
        for n in (1, 2, 3, 4):
            # force: PHOENIX's references are released tokenized ("nachricht ."), which is the convention,
            # not a mistake for sacreBLEU to warn about (it changes no score)
            bleu = BLEU(max_ngram_order=n, force=True, **settings)
            out[f"{prefix}{n}"] = bleu.corpus_score(hyps, refs).score
            if n == 4:
                out[f"{prefix}_signature"] = str(bleu.get_signature())
    chrf = CHRF()
    out["chrf"] = chrf.corpus_score(hyps, refs).score
    out["chrf_signature"] = str(chrf.get_signature())
    out["rougeL"] = rouge_l(hyps, list(references), language)
    out["rouge_units"] = units
    out["exact"] = sum(h.strip() == r.strip() for h, r in zip(hypotheses, references, strict=True))
    return out


class _Units:
    """rouge_score's tokenizer interface over Unicode words (its default keeps only a-z and digits, which
    would drop every umlaut) or over characters (Chinese)."""

    def __init__(self, units: str):
        self.units = units

    def tokenize(self, text: str) -> list[str]:
        if self.units == "chars":
            return [c for c in text if not c.isspace() and c.isalnum()]
        return re.findall(r"\w+", text.lower())


def rouge_l(hypotheses: Sequence[str], references: Sequence[str], language: str = "en") -> float:
    """Mean sentence ROUGE-L F1 (0-100); English keeps rouge_score's own tokenizer (the figures reported
    so far), other languages split into Unicode words or characters (:data:`TOKENIZATION`)."""
    from rouge_score import rouge_scorer

    tokenizer = None if language == "en" else _Units(TOKENIZATION[language][1])
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False, tokenizer=tokenizer)
    scores = [scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(hypotheses, references, strict=True)]
    return 100 * float(np.mean(scores)) if scores else 0.0


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
