"""DINO on face and hand crops: missing and swapped hands, the EMA teacher, training, resuming and features."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from pose.io import read_pose, write_pose
from pose.video import VideoStream
from pretrain.build import PretrainConfig, load_objective
from pretrain.crops import FACE, LEFT, RIGHT, CropConfig, part_boxes, part_crops
from pretrain.data import PretrainData
from pretrain.dino import Dino, DinoConfig, ema_momentum
from pretrain.optim import OptimConfig
from pretrain.trainer import pretrain
from tests.pretrain.conftest import first_clip, offsets

TINY = dict(
    size="tiny",
    crop_size=32,
    global_size=32,
    local_size=16,
    n_local=2,
    head_hidden=32,
    head_bottleneck=16,
    out_dim=64,
    frames_per_sample=4,
    samples_per_clip=2,
    cache_clips=8,
    feature_batch=16,
)


@pytest.fixture(scope="module")
def synth(rendered_document):
    """One rendered synthsign document (``rendered_document`` in conftest.py), by the name these tests take."""
    return rendered_document


def drop(pose, name: str, frames) -> None:
    """Make MediaPipe "lose" a component in some frames (confidence 0, coordinates 0)."""
    start = offsets(pose)[name]
    pose.body.confidence[frames, 0, start : start + 21] = 0
    pose.body.data.data[frames, 0, start : start + 21] = 0


def test_missing_and_swapped_hands(synth, tmp_path):
    pose_path, video = first_clip(synth)
    pose = read_pose(pose_path)
    reference = part_boxes(pose, CropConfig(size=32))
    # MediaPipe sometimes labels the hands the wrong way round: swapping them changes nothing
    swapped = read_pose(pose_path)
    start = offsets(swapped)
    left, right = start["LEFT_HAND_LANDMARKS"], start["RIGHT_HAND_LANDMARKS"]
    for arr in (swapped.body.data.data, swapped.body.confidence):
        arr[:, 0, left : left + 21], arr[:, 0, right : right + 21] = (
            arr[:, 0, right : right + 21].copy(),
            arr[:, 0, left : left + 21].copy(),
        )
    fixed = part_boxes(swapped, CropConfig(size=32))
    assert np.array_equal(fixed.found, reference.found) and np.allclose(fixed.boxes, reference.boxes)
    # lost hands: no box, a black crop, no training sample, zero features
    n = len(pose.body.data)
    drop(pose, "LEFT_HAND_LANDMARKS", slice(0, n // 2))
    drop(pose, "RIGHT_HAND_LANDMARKS", slice(None))
    boxes = part_boxes(pose, CropConfig(size=32))
    assert not boxes.found[: n // 2, LEFT].any() and not boxes.found[:, RIGHT].any() and boxes.found[:, FACE].all()
    frames = np.stack(list(VideoStream(video).frames()))
    crops = part_crops(frames, boxes, 32)
    assert crops[:, RIGHT].max() == 0 and crops[: n // 2, LEFT].max() == 0 and crops[:, FACE].max() > 0
    (tmp_path / "poses").mkdir()
    write_pose(pose, tmp_path / "poses" / pose_path.name)
    model = Dino(DinoConfig(**TINY))
    data = PretrainData(poses=str(tmp_path / "poses"), videos=str(video.parent))
    dataset = model.dataset(data, model.config)
    for i in range(len(dataset)):
        sample = dataset[i]
        assert len(sample["crops"]) == len(sample["parts"]) > 0 and not (sample["parts"] == RIGHT).any()
    feats = model.features(pose, video).reshape(n, 3, -1)
    assert np.array_equal((feats.abs().sum(-1) > 0).numpy(), boxes.found)  # zero exactly where a part is missing
    # a batch where every part is missing still gives a loss with a graph
    empty = {"crops": torch.zeros(0, 3, 32, 32, dtype=torch.uint8), "parts": torch.zeros(0, dtype=torch.long)}
    loss, _ = model.loss(empty)
    loss.backward()


def test_ema_update_is_exact():
    model = Dino(DinoConfig(**TINY))
    with torch.no_grad():
        for p in model.student.parameters():
            p.add_(torch.randn_like(p))
    student = {k: v.clone() for k, v in model.student.state_dict().items()}
    teacher = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    assert any(not torch.equal(student[k], teacher[k]) for k in student)
    model.after_step(3, 10)
    m = ema_momentum(3, 10, 0.996)
    assert 0.996 < m < 1
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, m * teacher[k] + (1 - m) * student[k]), k
    assert ema_momentum(1, 10, 0.996) == pytest.approx(0.996) and ema_momentum(10, 10, 0.996) == pytest.approx(1.0)
    assert not any(p.requires_grad for p in model.teacher.parameters())


def run_config(synth, out, max_steps: int, **model) -> PretrainConfig:
    return PretrainConfig(
        objective="dino",
        model=TINY | model,
        data=PretrainData(poses=str(synth / "poses"), videos=str(synth / "videos"), limit=3),
        optim=OptimConfig(lr=1e-3, max_steps=max_steps, batch_size=2, warmup_ratio=0.0),
        output_dir=str(out),
        log_every=1,
        save_every=100,
    )


def metrics(out) -> list[dict]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "samples_per_s"} for r in rows]


@pytest.fixture(scope="module")
def trained(synth, tmp_path_factory):
    """A tiny uninterrupted run of 8 steps (3 clips x 2 samples, batch 2: 3 steps an epoch)."""
    out = tmp_path_factory.mktemp("dino-run")
    result = pretrain(run_config(synth, out, 8), progress=False)
    assert result["steps"] == 8
    return out


def test_loss_decreases_through_the_shared_trainer(trained):
    rows = metrics(trained)
    assert [r["step"] for r in rows] == list(range(1, 9))
    losses = [r["loss"] for r in rows]
    # at step 1 the teacher is the student (only the views differ); after the first update the student
    # has left the teacher behind, and from there it learns to match it
    assert np.mean(losses[-2:]) < 0.8 * losses[1]
    assert all(0 < r["teacher_entropy"] <= np.log(64) and r["crops"] > 0 for r in rows)
    assert all(r["kl"] == pytest.approx(r["loss"] - r["teacher_entropy"], abs=1e-5) for r in rows)


def test_resume_continues_the_same_run(synth, trained, tmp_path):
    cfg = run_config(synth, tmp_path, 8)
    pretrain(cfg, progress=False, should_stop=lambda step: step == 4)  # stopped in the middle of epoch 2
    assert len(metrics(tmp_path)) == 4
    pretrain(cfg, progress=False)  # the same command again resumes from last/
    resumed, straight = metrics(tmp_path), metrics(trained)
    assert [r["step"] for r in resumed] == list(range(1, 9))
    assert resumed == straight  # bit for bit: the augmentations' randomness is part of the checkpoint


def test_load_objective_and_features(synth, trained):
    model, cfg = load_objective(trained / "last")
    assert isinstance(model, Dino) and cfg.objective == "dino" and model.dim == 3 * 32
    assert not model.training
    pose_path, video = first_clip(synth)
    pose = read_pose(pose_path)
    feats = model.features(pose, video)
    assert feats.shape == (len(pose.body.data), 96) and feats.dtype == torch.float32
    assert feats.std(0).mean() > 0  # frames differ
    # batching across frames changes nothing: one frame at a time gives the same features
    model.config.feature_batch = 1
    torch.testing.assert_close(model.features(pose, video)[:20], feats[:20], rtol=1e-4, atol=1e-5)
    # the weights came back exactly, teacher and centre included
    again, _ = load_objective(trained / "last")
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    assert not torch.equal(again.center, torch.zeros_like(again.center))


def test_separate_networks_per_part_and_local_init(synth, tmp_path):
    model = Dino(DinoConfig(**TINY | dict(shared=False)))
    assert list(model.student) == ["face", "left", "right"]
    data = PretrainData(poses=str(synth / "poses"), videos=str(synth / "videos"), limit=1)
    batch = model.collate([model.dataset(data, model.config)[0]])
    loss, extra = model.loss(batch)
    loss.backward()
    assert torch.isfinite(loss) and extra["crops"] == len(batch["crops"])
    # a DINOv2 checkpoint named by path gives the backbone its architecture and weights
    backbone = model.student["face"].backbone
    backbone.save_pretrained(tmp_path / "dinov2")
    init = Dino(DinoConfig(**TINY | dict(init=str(tmp_path / "dinov2"))))
    for k, v in backbone.state_dict().items():
        assert torch.equal(init.teacher["shared"].backbone.state_dict()[k], v), k
    shutil.rmtree(tmp_path / "dinov2")
