"""The README's main job: `signllava demo` translates a held-out synthsign document."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from signllava.cli import app
from signllava.demo import heldout_document

runner = CliRunner()


def test_demo_translates_a_heldout_synthsign_document_and_runs_the_pose_stage(tmp_path):
    result = runner.invoke(app, ["demo", "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    references = [r.sentence for r in heldout_document(tmp_path / "synthsign")]
    shown = re.findall(r"reference: (.*)  \((?:ok|differs)\)", result.output)
    assert shown == references  # every sentence of the document, in order, next to its translation
    right, total = map(int, re.search(r"(\d+) of (\d+) sentences translated exactly", result.output).groups())
    assert right == total == len(references)  # every sentence word for word
    read = re.findall(r"signs read: (.*)  \(signed: (.*)\)", result.output)  # what the model's gloss head saw
    assert read == [(" ".join(r.glosses),) * 2 for r in heldout_document(tmp_path / "synthsign")]
    assert "pose features: " in result.output and (tmp_path / "sample_portrait.overlay.png").is_file()
