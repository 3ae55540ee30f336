"""SignLLaVA checkpoints: strict loading, older checkpoints, warm starts, the half-precision export and
the default model shipped with the package."""

from __future__ import annotations

import json

import pytest

from pose.errors import InputError
from signllava.model.checkpoint import default_checkpoint, load_checkpoint, read_meta
from signllava.model.model import ModelConfig, SignLLaVA, StreamConfig
from signllava.train import train
from tests.signllava.conftest import config


def test_mismatched_checkpoint_is_refused(llm_dir, dataset, tmp_path):
    from signllava.model.llm import load_llm

    train(config(llm_dir, dataset, tmp_path / "s1", steps=1), progress=False)
    llm, tok = load_llm(llm_dir)
    other = SignLLaVA(ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(16)}), llm, tok)
    with pytest.raises(InputError, match="last: checkpoint has streams"):
        load_checkpoint(tmp_path / "s1" / "last", other)
    with pytest.raises(InputError, match="not a SignLLaVA checkpoint"):
        load_checkpoint(tmp_path, other)


def test_checkpoint_from_before_a_stream_field_existed_still_loads(llm_dir, dataset, tmp_path):
    from signllava.model.llm import load_llm

    train(config(llm_dir, dataset, tmp_path / "s1", steps=1), progress=False)
    meta_path = tmp_path / "s1" / "last" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["streams"]["pose"]["out_norm"]  # as written before out_norm was added
    meta_path.write_text(json.dumps(meta))
    llm, tok = load_llm(llm_dir)
    model = SignLLaVA(ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(8)}), llm, tok)
    assert load_checkpoint(tmp_path / "s1" / "last", model)["step"] == 1


def test_warm_start_adds_temporal_blocks_to_a_trained_projector(llm_dir, dataset, tmp_path):
    from signllava.model.llm import load_llm

    train(config(llm_dir, dataset, tmp_path / "s1", steps=2), progress=False)
    cfg = config(llm_dir, dataset, tmp_path / "t", steps=2)
    cfg.model.streams["pose"].temporal = 1
    cfg.init_from = str(tmp_path / "s1" / "last")
    train(cfg, progress=False)
    meta = read_meta(tmp_path / "t" / "last")
    assert meta["streams"]["pose"]["temporal"] == 1
    llm, tok = load_llm(llm_dir)
    grown = SignLLaVA(ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(8, temporal=1)}), llm, tok)
    with pytest.raises(InputError, match="checkpoint has streams"):  # a plain load stays strict
        load_checkpoint(tmp_path / "s1" / "last", grown)
    load_checkpoint(tmp_path / "s1" / "last", grown, warm_start=True)
    state = grown.trainable_state()
    assert not state["projectors.pose.temporal.0.out.weight"].any()  # not in the checkpoint: fresh (identity)
    assert load_checkpoint(tmp_path / "t" / "last", grown)["step"] == 2  # the grown run's own checkpoint: strict


def test_export_half_precision_copy_loads_strictly(llm_dir, dataset, tmp_path):
    from safetensors.torch import load_file

    from signllava.model.checkpoint import export_checkpoint
    from signllava.model.llm import load_llm

    train(config(llm_dir, dataset, tmp_path / "s1", steps=1), progress=False)
    export_checkpoint(tmp_path / "s1" / "last", tmp_path / "ship")
    assert not (tmp_path / "ship" / "training.pt").exists() and (tmp_path / "ship" / "config.yaml").is_file()
    full = load_file(tmp_path / "s1" / "last" / "model.safetensors")
    half = load_file(tmp_path / "ship" / "model.safetensors")
    assert all(v.dtype.itemsize == 2 for v in half.values()) and set(half) == set(full)
    for folder in (tmp_path / "s1" / "last", tmp_path / "ship"):  # readable like the files beside it
        assert (folder / "model.safetensors").stat().st_mode & 0o777 == (folder / "meta.json").stat().st_mode & 0o777
    llm, tok = load_llm(llm_dir)
    model = SignLLaVA(ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(8)}), llm, tok)
    assert load_checkpoint(tmp_path / "ship", model)["step"] == 1
    for key, value in model.trainable_state().items():
        assert value.dtype == full[key].dtype and (value - full[key]).abs().max() <= 1e-3 * full[key].abs().max() + 1e-6


def test_default_model_ships_with_the_package_and_its_recipe():
    folder = default_checkpoint()
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["llm"] == "smollm2-135m" and set(meta["streams"]) == {"pose"} and meta["lora"]  # stage 2: + LoRA
    assert "gloss_prompt: true" in (folder / "config.yaml").read_text()  # the LLM reads its CTC head's glosses
    assert sum(f.stat().st_size for f in folder.iterdir()) < 10_000_000  # a few MB (float16), no optimizer state
    assert not (folder / "training.pt").exists()
    assert (folder.parent / "recipes" / "default.yaml").is_file()


@pytest.mark.parametrize("how", ["truncated", "empty", "renamed"])
def test_a_damaged_checkpoint_is_refused_before_anything_loads(tmp_path, how):
    import shutil

    from signllava.model.build import load_trained
    from signllava.model.checkpoint import DEFAULT_CHECKPOINT
    from tests.pretrain.test_runtime import damage

    folder = tmp_path / "last"
    shutil.copytree(DEFAULT_CHECKPOINT, folder)
    damage(folder / "model.safetensors", how)
    for load in (read_meta, load_trained):  # load_trained: before the LLM loads (it would take seconds)
        with pytest.raises(InputError, match=f"{folder / 'model.safetensors'}: damaged weight file: .*copy it again"):
            load(folder)


def test_a_damaged_default_model_says_to_reinstall(tmp_path, monkeypatch):
    import shutil

    import signllava.model.checkpoint as checkpoint
    from tests.pretrain.test_runtime import damage

    shipped = tmp_path / "default_model"
    shutil.copytree(checkpoint.DEFAULT_CHECKPOINT, shipped)
    damage(shipped / "model.safetensors", "empty")
    monkeypatch.setattr(checkpoint, "DEFAULT_CHECKPOINT", shipped)
    with pytest.raises(InputError, match="damaged weight file: .*reinstall signllava"):
        read_meta(default_checkpoint())
