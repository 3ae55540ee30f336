"""Export a model the Hugging Face way and load it back by repo id from a Hugging Face cache (offline)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file

from pose.errors import InputError
from signllava.model.checkpoint import DEFAULT_CHECKPOINT, read_meta
from signllava.model.export import DEFAULT_LLM_ID, export
from signllava.model.hub import adapter_to_state, resolve_checkpoint, resolve_encoder, state_to_adapter

DEFAULT_NAME, DEFAULT_LICENSE = "signllava-synthsign-default", "apache-2.0"


def to_hub_cache(hf_home: Path, repo: str, folder: Path, tags: tuple[str, ...] = ()) -> str:
    """Lay ``folder`` out in ``hf_home`` as huggingface_hub lays out a downloaded repo: content-addressed
    blobs, a snapshot of links to them under a commit hash, and refs naming that commit."""
    root = hf_home / "hub" / f"models--{repo.replace('/', '--')}"
    commit = hashlib.sha1(repo.encode() + b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()))
    commit = commit.hexdigest()
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = root / "snapshots" / commit / path.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (root / "refs").mkdir(parents=True, exist_ok=True)
    for ref in ("main", *tags):
        (root / "refs" / ref).write_text(commit)
    return commit


@pytest.fixture
def hf_home(tmp_path, monkeypatch):
    """An empty Hugging Face cache of this test's own, offline (tests/conftest.py sets HF_HUB_OFFLINE)."""
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "signllava-cache"))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))  # read once at import, as HF_HOME is
    return home


@pytest.fixture(scope="module")
def default_export(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "default"
    return export(DEFAULT_CHECKPOINT, out, license=DEFAULT_LICENSE, name=DEFAULT_NAME)


def test_the_export_folder_holds_what_the_hub_serves(default_export):
    names = sorted(p.relative_to(default_export).as_posix() for p in default_export.rglob("*") if p.is_file())
    assert names == [
        "README.md",
        "adapter/adapter_config.json",
        "adapter/adapter_model.safetensors",
        "config.json",
        "evaluation.json",
        "model.safetensors",
    ]
    config = json.loads((default_export / "config.json").read_text())
    assert config["format"] == "signllava-export-1" and config["kind"] == "signllava"
    assert config["meta"] == read_meta(DEFAULT_CHECKPOINT) and config["base_model"] == DEFAULT_LLM_ID
    ours = load_file(DEFAULT_CHECKPOINT / "model.safetensors")
    split = load_file(default_export / "model.safetensors")
    adapter = load_file(default_export / "adapter" / "adapter_model.safetensors")
    assert not any("lora" in k for k in split) and all(k.startswith("base_model.model.") for k in adapter)
    assert split.keys() | adapter_to_state(adapter).keys() == ours.keys()  # nothing lost, nothing added
    assert state_to_adapter(ours).keys() == adapter.keys()


def test_the_card_parses_and_names_the_base_model_and_metrics(default_export):
    from huggingface_hub import ModelCard

    card = ModelCard.load(default_export / "README.md")
    assert card.data.base_model == DEFAULT_LLM_ID == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert card.data.license == DEFAULT_LICENSE and card.data.pipeline_tag == "video-text-to-text"
    assert "sign-language-translation" in card.data.tags and card.data.metrics == ["sacrebleu", "chrf", "rouge"]
    bleu = next(r for r in card.data.eval_results if r.metric_name == "BLEU-4")
    shipped = json.loads((DEFAULT_CHECKPOINT / "evaluation.json").read_text())
    assert bleu.metric_value == round(shipped["bleu4"], 2) and bleu.dataset_split == "test"
    assert shipped["bleu_signature"] in card.text and "knows no ASL" in card.text
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in card.text


def test_the_shipped_default_models_card_is_what_export_writes(default_export):
    """signllava/default_model/README.md is the export's card: regenerate it with this test's options."""
    assert (default_export / "README.md").read_text() == (DEFAULT_CHECKPOINT / "README.md").read_text()


def test_peft_loads_the_adapter_folder_onto_the_base_llm(checkpoint, llm_dir, tmp_path):
    import torch
    from peft import PeftModel

    from signllava.model.build import LoraSettings, load_trained, trained_config
    from signllava.model.checkpoint import write_checkpoint
    from signllava.model.llm import load_llm

    cfg = trained_config(checkpoint)
    cfg.lora = LoraSettings(enabled=True, r=4, alpha=8, target_modules=["q_proj", "v_proj"])
    cfg.init_from = str(checkpoint)
    from signllava.model.build import build_model

    model = build_model(cfg, torch.device("cpu"))
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p)  # trained-looking adapters (peft starts B at zero)
    stage2 = tmp_path / "s2"
    stage2.mkdir()
    write_checkpoint(stage2, model, step=1)
    from pose.config_loader import save_config

    cfg.init_from = None
    save_config(cfg, stage2 / "config.yaml")
    out = export(stage2, tmp_path / "exported")
    adapted = PeftModel.from_pretrained(load_llm(llm_dir)[0], out / "adapter")
    ids = torch.arange(3, 19).view(2, 8)
    ours, _ = load_trained(stage2, "cpu")
    back, _ = load_trained(out, "cpu")  # the export itself, as --checkpoint takes it
    with torch.no_grad():
        want = ours.llm(input_ids=ids).logits
        torch.testing.assert_close(adapted(input_ids=ids).logits, want)
        torch.testing.assert_close(back.llm(input_ids=ids).logits, want)


def test_loading_by_repo_id_from_the_cache_translates_as_the_shipped_folder(default_export, hf_home, synth):
    from signllava import Translator

    to_hub_cache(hf_home, "someone/synthsign-default", default_export, tags=("v1",))
    clip = sorted((synth / "poses").rglob("*.pose"))[0]
    shipped = [s.text for s in Translator.load().translate(clip)]
    for ref in ("someone/synthsign-default", "someone/synthsign-default@v1"):
        loaded = Translator.load(ref)
        assert [s.text for s in loaded.translate(clip)] == shipped, ref
    folder = resolve_checkpoint("someone/synthsign-default")
    assert resolve_checkpoint("someone/synthsign-default@v1") == folder  # rebuilt once, by contents
    assert folder.is_relative_to(Path(os.environ["SIGNLLAVA_CACHE"]))


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("someone/nothing-here", r"not in the Hugging Face cache .* HF_HUB_OFFLINE is set: run `hf download"),
        ("someone/synthsign-default@v9", r"hf download someone/synthsign-default --revision v9"),
        ("some--one/model", r"not a valid Hugging Face repo id"),
        ("someone/not-an-export", r"the repo is not a SignLLaVA export"),
    ],
)
def test_repo_ids_that_cannot_be_loaded_are_one_line(default_export, hf_home, tmp_path, ref, message):
    to_hub_cache(hf_home, "someone/synthsign-default", default_export)
    other = tmp_path / "transformers-model"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "llama"}')
    to_hub_cache(hf_home, "someone/not-an-export", other)
    with pytest.raises(InputError, match=message) as err:
        resolve_checkpoint(ref)
    assert "\n" not in str(err.value) and str(err.value).startswith(ref)


def test_an_encoder_export_is_no_translation_model_and_back(tmp_path):
    from pose.config_loader import save_config
    from pretrain.build import PretrainConfig, build_objective, load_objective
    from signllava.model.checkpoint import _save_weights

    cfg = PretrainConfig(objective="sign2vec", model={"size": "tiny", "max_frames": 80})
    run = tmp_path / "s2v" / "last"
    run.mkdir(parents=True)
    objective = build_objective(cfg)
    _save_weights({k: v.contiguous() for k, v in objective.state_dict().items()}, run / "model.safetensors")
    save_config(cfg, run / "config.yaml")
    out = export(run, tmp_path / "encoder")
    assert json.loads((out / "config.json").read_text())["kind"] == "encoder"
    loaded, loaded_cfg = load_objective(resolve_encoder(out))
    assert loaded_cfg.objective == "sign2vec" and loaded_cfg.model == cfg.model
    with pytest.raises(InputError, match="an export of a pretrained encoder, not a translation model"):
        resolve_checkpoint(out)


def test_a_failed_export_leaves_no_folder(tmp_path, monkeypatch):
    import signllava.model.export as export_module

    def broken(*args):
        raise InputError(None, "the card could not be written")

    monkeypatch.setattr(export_module, "render_card", broken)
    with pytest.raises(InputError):
        export(DEFAULT_CHECKPOINT, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="exists and is not an export"):
        export(DEFAULT_CHECKPOINT, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


def test_a_report_beside_the_checkpoint_goes_on_the_card(checkpoint, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(checkpoint, run / "last")
    report = {
        "checkpoint": str(run / "last"),
        "split": "val",
        "sentences": 3,
        "context": "gold",
        "config": {"num_beams": 1, "data": {"metadata": ["/data/h2s/how2sign_realigned_val.csv"]}},
        "translation": {"bleu1": 50.0, "bleu2": 40.0, "bleu3": 30.0, "bleu4": 20.5, "chrf": 33.0, "rougeL": 44.0}
        | {"exact": 1, "bleu_signature": "nrefs:1|tok:13a", "chrf_signature": "nrefs:1|nc:6"},
        "hypotheses": [{"hypothesis": "not on the card"}],
    }
    (run / "eval-val.json").write_text(json.dumps(report))
    out = export(run / "last", tmp_path / "out", datasets=("someone/how2sign",))
    summary = json.loads((out / "evaluation.json").read_text())
    assert summary["bleu4"] == 20.5 and summary["data"] == ["h2s/how2sign_realigned_val.csv"]
    card = (out / "README.md").read_text()
    assert "20.50" in card and "not on the card" not in card and "/data/h2s" not in card
    assert "Research on sign language translation" in card and "someone/how2sign" in card


def test_a_model_trained_on_a_local_llm_folder_loads_its_llm_by_the_id_on_the_card(
    checkpoint, llm_dir, hf_home, tmp_path
):
    """A cluster trains on a local copy of the LLM; the export names its Hub id, and loading fetches it by id
    (here from the Hugging Face cache, offline)."""
    import torch

    from signllava.model.build import load_trained

    out = export(checkpoint, tmp_path / "exported", base_model="someone/tiny-llama")
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["model"]["llm"] == config["base_model"] == "someone/tiny-llama"
    to_hub_cache(hf_home, "someone/tiny-llama", Path(llm_dir))
    to_hub_cache(hf_home, "someone/tiny-sign", out)
    ours, _ = load_trained(checkpoint, "cpu")
    shared, cfg = load_trained("someone/tiny-sign", "cpu")
    assert cfg.model.llm == "someone/tiny-llama"
    ids = torch.arange(3, 19).view(2, 8)
    with torch.no_grad():
        torch.testing.assert_close(shared.llm(input_ids=ids).logits, ours.llm(input_ids=ids).logits)
