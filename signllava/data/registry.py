"""The datasets SignLLaVA reads, as one registry: each turns its native files into :class:`Sentence` samples.

A dataset module registers a :class:`Dataset` (``@register``): its name, its language pair
(:mod:`.languages`), the files it wants (``signllava data list`` prints them), how to recognize one of its
files, and how to read a group of them into kept sentences and dropped rows with reasons (a
:class:`~signllava.data.how2sign.CheckReport`, as ``data check`` reports it). This module knows none of
them; :mod:`.datasets` imports every one. A new dataset is a module with ``@register`` and a line there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pose.errors import InputError

from .languages import language
from .samples import CheckReport, Dropped, Sentence


@dataclass(frozen=True)
class Dataset:
    """One dataset's native files, and how they become sentences."""

    name: str  # the config's data.dataset value
    title: str  # for people: "RWTH-PHOENIX-Weather 2014 T"
    language: str  # its language pair (signllava.data.languages)
    files: str  # what files it wants, for `data list`
    recognize: Callable[[Path], bool]  # whether a metadata path is one of its files
    # the sentences of a group of its files (all the paths of data.metadata that are its), with dropped rows
    read: Callable[[Sequence[Path]], CheckReport]
    context: str = ""  # what the context of a sentence is (the previous sentences of what), for `data list`
    # why a file no dataset recognized is not this one's, where the file looks meant for it (its columns)
    explain: Callable[[Path], str | None] | None = None


DATASETS: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    if dataset.name in DATASETS:
        raise ValueError(f"a dataset is already registered as {dataset.name!r}")
    language(dataset.language)
    DATASETS[dataset.name] = dataset
    return dataset


def dataset_named(name: str) -> Dataset:
    if name not in DATASETS:
        raise InputError(None, f"config value data.dataset={name!r} is unknown: choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def recognize(path: str | os.PathLike) -> Dataset:
    """The dataset whose file ``path`` is, from its name and first line; one line when none is."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "metadata file not found")
    for dataset in DATASETS.values():
        if dataset.recognize(path):
            return dataset
    reasons = [why for d in DATASETS.values() if d.explain is not None and (why := d.explain(path))]
    raise InputError(
        path,
        (f"{reasons[0]}; nor a file of another dataset" if reasons else "not a file of any dataset SignLLaVA reads")
        + " ("
        + ", ".join(DATASETS)
        + "): `signllava data list` says what each wants, or name one with "
        "--set data.dataset=NAME",
    )


def read_metadata(paths: Sequence[str | os.PathLike], name: str = "") -> tuple[CheckReport, str]:
    """Every sentence of ``paths`` (each recognized, or all of dataset ``name``), dropped rows with reasons, and
    the language pair they share (the report's ``dataset`` names the dataset where there is one). Names must
    be unique across the files."""
    groups: dict[str, list[Path]] = {}
    for path in map(Path, paths):
        dataset = dataset_named(name) if name else recognize(path)
        if name and not path.exists():
            raise InputError(path, "metadata file not found")
        groups.setdefault(dataset.name, []).append(path)
    # How2Sign-layout files are read last, together, as before datasets were a registry: training draws its
    # samples in this order, so an earlier recipe rerun draws the same ones
    order = sorted(groups, key=lambda n: n == "how2sign")
    parts = {n: DATASETS[n].read(groups[n]) for n in order}
    # a manifest records the dataset its rows came from
    names = {part.dataset or n for n, part in parts.items()}
    pairs = {DATASETS[n].language for n in names}
    if len(pairs) > 1:
        raise InputError(None, f"data.metadata mixes language pairs {', '.join(sorted(pairs))}: train one at a time")
    report = CheckReport(dataset=names.pop() if len(names) == 1 else "")
    seen: dict[str, Sentence] = {}
    for dataset_name, part in parts.items():
        report.absorb(part, kept=False)
        for s in part.kept:
            if s.sentence_name in seen:
                first = seen[s.sentence_name]
                reason = f"duplicate name: {s.sentence_name} already at row {first.row} ({first.split})"
                report.dropped.append(Dropped(s.sentence_name, reason, s.row, dataset_name))
                continue
            seen[s.sentence_name] = s
            report.kept.append(s)
    return report, (pairs.pop() if pairs else "")


def untimed_report(sentences: Sequence[Sentence], source: str, malformed: Sequence[Dropped] = ()) -> CheckReport:
    """A report of sentences that carry no times (each a whole clip or frame folder): rows that could not be
    parsed (``malformed``), rows without a name, empty texts and repeated names are dropped with the reason, as
    ``data check`` drops them from timed metadata."""
    report = CheckReport(dropped=list(malformed))
    report.read.update(s.split for s in sentences)
    seen: dict[str, Sentence] = {}
    for s in sentences:
        if not s.sentence_name:
            reason = "malformed row: empty name"
        elif not s.text:
            reason = "empty sentence"
        elif s.sentence_name in seen:
            reason = f"duplicate name: {s.sentence_name} already at row {seen[s.sentence_name].row}"
        else:
            seen[s.sentence_name] = s
            report.kept.append(s)
            continue
        report.dropped.append(Dropped(s.sentence_name, reason, s.row, source))
    return report
