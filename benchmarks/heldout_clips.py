"""Held-out synthsign test sentences as ``generate`` inputs, in document order with the previous
sentence as context (as ``translate`` and ``evaluate --context own`` see them when the model is
right), for the decoding benchmarks. The documents are generated into ``workdir`` on the first run."""

from __future__ import annotations

from pathlib import Path

from signllava.data.tasks import Task
from signllava.demo import heldout_document


def heldout_items(translator, documents: int, workdir: str | Path) -> tuple[list[dict], list[str]]:
    """``(items, references)``: one collator item per sentence clip of the first ``documents``
    held-out test documents, and its reference translation."""
    items, references = [], []
    for d in range(documents):
        folder = Path(workdir) / f"doc{d}"
        previous = ""
        for r in heldout_document(folder, d):
            path = folder / "poses" / f"{r.sentence_name}.pose"
            pose = translator.poses(path)
            streams = translator._clip(translator._features(pose, path), 0, len(pose.body.data))
            context = (previous,) if previous else ()
            task = Task(r.sentence_name, "translate", "", None, context)
            items.append({"sentence": r.sentence_name, "task": task, "streams": streams})
            references.append(r.sentence)
            previous = r.sentence
    return items, references
