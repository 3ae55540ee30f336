"""Building an encoder from its run config, and loading a pretraining checkpoint back strictly."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from pose.config_loader import load_config
from pose.errors import InputError
from pretrain.build import PretrainConfig, build_objective, config_text, load_objective
from pretrain.sign2vec import Sign2Vec, Sign2VecConfig

TINY = {"size": "tiny", "max_frames": 40}


def test_the_model_section_becomes_the_objectives_typed_config():
    objective = build_objective(PretrainConfig("sign2vec", TINY))
    assert isinstance(objective, Sign2Vec) and objective.config == Sign2VecConfig(**TINY)
    with pytest.raises(InputError, match=r"^unknown sign2vec model field 'nope' \(fields: codebook_groups, "):
        build_objective(PretrainConfig("sign2vec", {"nope": 1}))
    with pytest.raises(InputError, match="unknown objective 'dinov3'"):
        build_objective(PretrainConfig("dinov3"))


@pytest.mark.parametrize("objective", ["sign2vec", "dino", "mae"])
def test_model_fields_are_typed_as_every_configs_are(objective):
    """Found by benchmarks/fuzz.py (encoder checkpoints): ``model`` is free-form in the run config, so a string
    where a number belongs reached the objective's __post_init__ as a TypeError; converted or refused now."""
    field = {"sign2vec": "max_frames", "dino": "global_size", "mae": "image_size"}[objective]
    with pytest.raises(InputError, match=rf"^{objective} model field {field}: Value 'many' of type 'str' could not"):
        build_objective(PretrainConfig(objective, {"size": "tiny", field: "many"}))
    assert build_objective(PretrainConfig("sign2vec", TINY | {"max_frames": "40"})).config.max_frames == 40


def test_a_checkpoint_folder_loads_back_strictly(tmp_path):
    cfg = PretrainConfig("sign2vec", TINY, output_dir=str(tmp_path))
    torch.manual_seed(0)
    saved = build_objective(cfg)
    save_file({k: v.contiguous() for k, v in saved.state_dict().items()}, tmp_path / "model.safetensors")
    (tmp_path / "config.yaml").write_text(config_text(cfg))
    assert load_config(PretrainConfig, tmp_path / "config.yaml") == cfg  # the recorded config reads back equal
    objective, loaded = load_objective(tmp_path)
    assert loaded == cfg and not objective.training
    for (key, a), b in zip(saved.state_dict().items(), objective.state_dict().values(), strict=True):
        assert torch.equal(a, b), key
    other = PretrainConfig("sign2vec", TINY | {"hidden_size": 32, "num_heads": 2, "pos_conv_groups": 2})
    (tmp_path / "config.yaml").write_text(config_text(other))  # the weights are of another architecture
    with pytest.raises(InputError, match="weights do not match a sign2vec model with this checkpoint's config"):
        load_objective(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(InputError, match=r"not a pretraining checkpoint \(no model.safetensors / config.yaml\)"):
        load_objective(tmp_path)


def test_a_damaged_encoder_checkpoint_is_refused_before_the_model_is_built(tmp_path, monkeypatch):
    import pretrain.build
    from tests.pretrain.test_runtime import damage

    cfg = PretrainConfig("sign2vec", TINY, output_dir=str(tmp_path))
    save_file({k: v.contiguous() for k, v in build_objective(cfg).state_dict().items()}, tmp_path / "model.safetensors")
    (tmp_path / "config.yaml").write_text(config_text(cfg))
    damage(tmp_path / "model.safetensors", "truncated")
    monkeypatch.setattr(pretrain.build, "build_objective", lambda cfg: pytest.fail("built for damaged weights"))
    with pytest.raises(InputError, match=r"model.safetensors: damaged weight file: cut short"):
        load_objective(tmp_path)
