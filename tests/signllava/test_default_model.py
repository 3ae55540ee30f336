"""The embedded default model and the README's main job (`signllava demo`)."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from signllava.checkpoint import default_checkpoint
from signllava.cli import app
from signllava.demo import heldout_document

runner = CliRunner()


def test_default_model_ships_with_the_package_and_its_recipe():
    folder = default_checkpoint()
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["llm"] == "smollm2-135m" and set(meta["streams"]) == {"pose"} and meta["lora"]  # stage 2: + LoRA
    assert "gloss_prompt: true" in (folder / "config.yaml").read_text()  # the LLM reads its CTC head's glosses
    assert sum(f.stat().st_size for f in folder.iterdir()) < 10_000_000  # a few MB (float16), no optimizer state
    assert not (folder / "training.pt").exists()
    assert (folder.parent / "recipes" / "default.yaml").is_file()


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


def test_translate_and_ask_default_to_the_embedded_model(tmp_path):
    clip = tmp_path / "s" / "poses" / f"{heldout_document(tmp_path / 's')[0].sentence_name}.pose"
    result = runner.invoke(app, ["translate", str(clip), "--beam", "1"])
    assert result.exit_code == 0 and result.stdout.strip()
    assert "knows only synthetic signing" in result.stderr
    answer = runner.invoke(app, ["ask", str(clip), "Is the video reversed?"])
    assert answer.exit_code == 0 and answer.stdout.strip().lower().rstrip(".") in ("yes", "no")
