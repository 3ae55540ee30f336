"""MAE on the signer crop: masking, the signer-crop dataset, training through the shared loop, features, resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pose.errors import InputError
from pose.io import read_pose
from pose.video import VideoStream
from pretrain.build import PretrainConfig, build_objective, load_objective
from pretrain.data import PretrainData, list_clips
from pretrain.mae import MAEConfig, MAEObjective
from pretrain.optim import OptimConfig
from pretrain.trainer import pretrain

TINY = {"size": "tiny", "frames_per_clip": 2}


@pytest.fixture(scope="module")
def synth(rendered_train) -> PretrainData:
    """synthsign tiny's rendered train split (``rendered_train`` in conftest.py), by the name these tests take."""
    return rendered_train


def config(data: PretrainData, out: Path, steps: int, **model) -> PretrainConfig:
    return PretrainConfig(
        objective="mae",
        model={**TINY, **model},
        data=data,
        optim=OptimConfig(lr=5e-3, warmup_ratio=0.0, max_steps=steps, batch_size=4, bf16=False),
        output_dir=str(out),
        device="cpu",
        log_every=1,
        save_every=100,
    )


def losses(run: Path) -> list[tuple[int, float]]:
    return [(m["step"], m["loss"]) for m in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())]


@pytest.fixture(scope="module")
def full_run(synth, tmp_path_factory) -> Path:
    """An uninterrupted 8-step run: the reference for the loss curve, resume and loading."""
    out = tmp_path_factory.mktemp("full")
    pretrain(config(synth, out, 8), progress=False)
    return out


def test_masking_follows_the_config():
    batch = {"pixel_values": torch.randn(3, 3, 64, 64)}
    for ratio in (0.75, 0.5):
        objective = MAEObjective(MAEConfig(**TINY, mask_ratio=ratio))
        loss, metrics = objective.loss(batch)
        assert torch.isfinite(loss) and metrics["mask_ratio"] == pytest.approx(ratio)
        out = objective.model(pixel_values=batch["pixel_values"])
        assert (out.mask.sum(1) == int(objective.num_patches * ratio)).all()  # per image, not only on average


def test_dataset_gives_signer_crops(synth):
    objective = MAEObjective(MAEConfig(**TINY))
    dataset = objective.dataset(synth, objective.config)
    batch = objective.collate([dataset[0], dataset[1]])
    assert batch["pixel_values"].shape == (4, 3, 64, 64)
    assert torch.isfinite(batch["pixel_values"]).all()
    with pytest.raises(InputError, match="data.videos"):
        objective.dataset(PretrainData(poses=synth.poses), objective.config)


def test_loss_decreases_through_the_shared_trainer(synth, full_run):
    curve = [loss for _, loss in losses(full_run)]
    assert len(curve) == 8 and np.isfinite(curve).all() and np.mean(curve[-3:]) < curve[0]
    # The logged losses are of different batches: compare start and end on one batch and one mask.
    trained, cfg = load_objective(full_run / "last")
    torch.manual_seed(cfg.seed)  # the trainer builds its model right after seeding: the same initial weights
    initial = build_objective(cfg).eval()
    np.random.seed(1)
    dataset = trained.dataset(synth, trained.config)
    batch = trained.collate([dataset[i] for i in range(4)])
    before, after = [], []
    for objective, out in ((initial, before), (trained, after)):
        np.random.seed(2)
        with torch.no_grad():
            out.append(objective.loss(batch)[0].item())
    assert after[0] < 0.85 * before[0]


def test_resume_continues_the_same_loss_curve(synth, full_run, tmp_path):
    cfg = config(synth, tmp_path, 8)
    pretrain(cfg, progress=False, should_stop=lambda step: step == 4)
    assert [s for s, _ in losses(tmp_path)] == [1, 2, 3, 4]
    pretrain(cfg, progress=False)
    resumed, full = losses(tmp_path), losses(full_run)
    assert [s for s, _ in resumed] == list(range(1, 9))
    np.testing.assert_allclose([v for _, v in resumed], [v for _, v in full], rtol=1e-5)


def test_features_are_per_frame_deterministic_and_survive_loading(synth, full_run):
    objective, cfg = load_objective(full_run / "last")
    assert cfg.objective == "mae" and objective.dim == 32 and isinstance(objective, MAEObjective)
    clip = list_clips(synth, need_video=True)[0]
    pose = read_pose(clip.pose)
    feats = objective.features(pose, clip.video)
    assert feats.shape == (len(pose.body.data), 32) and torch.isfinite(feats).all()
    assert torch.equal(objective.features(pose, clip.video), feats)  # no masking noise at feature time
    frames = np.stack(list(VideoStream(clip.video).frames()))
    assert torch.allclose(objective.features(pose, frames), feats, atol=1e-6)
    assert torch.allclose(objective.features(pose, frames[:-3]), torch.cat([feats[:-3], feats[-4:-3].expand(3, -1)]))
    objective.config.pool = "mean"
    assert not torch.allclose(objective.features(pose, frames), feats)
    again, _ = load_objective(full_run / "last")
    assert torch.equal(again.features(pose, clip.video), feats)


def test_extraction_writes_mae_features_to_the_store(synth, full_run, tmp_path):
    from pretrain.extract import ExtractFeaturesConfig, extract_features
    from pretrain.store import FeatureStore

    data = PretrainData(poses=synth.poses, videos=synth.videos, limit=3)
    job = ExtractFeaturesConfig(
        stream="mae", checkpoint=str(full_run / "last"), data=data, output=str(tmp_path), device="cpu"
    )
    report = extract_features(job, progress=False)
    assert report.done == 3 and report.stats is not None and report.stats.dim == 32
    store = FeatureStore.open(tmp_path, "mae")
    for clip in list_clips(data):
        assert store[clip.name].shape == (len(read_pose(clip.pose).body.data), 32)


def test_init_from_a_local_checkpoint(tmp_path):
    source = MAEObjective(MAEConfig(**TINY))
    source.model.save_pretrained(tmp_path / "vitmae")
    started = MAEObjective(MAEConfig(size="base", init=str(tmp_path / "vitmae"), mask_ratio=0.6))
    assert started.dim == 32 and started.model.config.mask_ratio == 0.6  # the checkpoint's architecture wins
    for key, value in source.state_dict().items():
        assert torch.equal(started.state_dict()[key], value)
    with pytest.raises(InputError, match="image_size"):
        MAEObjective(MAEConfig(init=str(tmp_path / "vitmae"), image_size=224))
    with pytest.raises(InputError):
        MAEObjective(MAEConfig(init=str(tmp_path / "missing")))


def test_config_errors_are_one_line():
    for bad in ({"pool": "max"}, {"size": "huge"}, {"mask_ratio": 1.0}, {"size": "tiny", "patch_size": 7}):
        with pytest.raises(InputError) as err:
            MAEConfig(**bad)
        assert "\n" not in str(err.value)


def test_base_preset_is_vit_b16_with_768_features():
    with torch.device("meta"):  # the architecture without allocating or initializing 112 M weights
        objective = MAEObjective(MAEConfig())
    assert (objective.dim, objective.image_size, objective.num_patches) == (768, 224, 196)
    assert objective.model.config.mask_ratio == 0.75
    assert sum(p.numel() for p in objective.parameters()) == pytest.approx(111.9e6, rel=1e-3)  # vit-mae-base
