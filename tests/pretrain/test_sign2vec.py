"""Sign2Vec (wav2vec 2.0 on poses): training through the shared trainer, masking, negatives, features, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pretrain.build import PretrainConfig, load_objective
from pretrain.data import PretrainData
from pretrain.objectives import objective_class
from pretrain.optim import OptimConfig
from pretrain.sign2vec import Sign2Vec, Sign2VecConfig
from pretrain.trainer import pretrain


@pytest.fixture(scope="module")
def synth(tiny_poses) -> Path:
    """synthsign tiny's poses (``tiny_poses`` in conftest.py), by the name these tests take."""
    return tiny_poses


def tiny(**model) -> Sign2Vec:
    torch.manual_seed(0)
    return Sign2Vec(Sign2VecConfig(size="tiny", **model))


def run_config(synth: Path, out: Path, **optim) -> PretrainConfig:
    return PretrainConfig(
        objective="sign2vec",
        model={"size": "tiny", "max_frames": 80},
        data=PretrainData(poses=str(synth / "poses"), limit=12),
        optim=OptimConfig(**{"lr": 1e-3, "max_steps": 8, "batch_size": 4, "warmup_ratio": 0.1, **optim}),
        output_dir=str(out),
        log_every=1,
        save_every=100,
    )


def losses(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_registered_and_sized():
    assert objective_class("sign2vec") is Sign2Vec
    base = Sign2VecConfig()  # the DESIGN's Sign2Vec: 12 x 768, 2 groups x 320 codes, 0.65 / 10 / 100
    assert (base.num_layers, base.hidden_size, base.codebook_groups, base.codebook_size) == (12, 768, 2, 320)
    assert (base.mask_time_prob, base.mask_time_length, base.num_negatives) == (0.65, 10, 100)
    assert Sign2VecConfig(size="tiny", hidden_size=32, num_heads=2, pos_conv_groups=2).hidden_size == 32


def test_loss_decreases_through_the_trainer(synth, tmp_path):
    cfg = run_config(synth, tmp_path / "run", max_steps=40, lr=2e-3)
    result = pretrain(cfg, progress=False)
    records = losses(tmp_path / "run")
    assert result["steps"] == 40 and len(records) == 40
    first, last = np.mean([r["loss"] for r in records[:5]]), np.mean([r["loss"] for r in records[-5:]])
    assert last < 0.9 * first, (first, last)
    # ... by learning, not by codebook collapse (one code everywhere makes every distractor the positive)
    assert np.mean([r["perplexity"] for r in records[-5:]]) > 8  # of 2 groups x 16 codes
    assert {"contrastive", "diversity", "perplexity", "lr"} <= set(records[-1])
    # the Gumbel temperature decays from gumbel_max towards gumbel_min over max_steps
    temps = [r["temperature"] for r in records]
    assert temps[0] == pytest.approx(2.0) and all(a > b for a, b in zip(temps, temps[1:], strict=False))
    assert temps[-1] == pytest.approx(0.5 * 4 ** (1 / 40), rel=1e-4)


def expected_masked_share(n: int, prob: float, span: int) -> float:
    """Exact expected share of masked frames of transformers' span sampler on one unpadded row of
    ``n`` frames: k distinct starts among ``n - span + 1``, k = int(prob * n / span + U(0, 1))."""
    starts = n - span + 1
    base = prob * n / span
    share = 0.0
    for k, p_k in ((math.floor(base), 1 - (base - math.floor(base))), (math.floor(base) + 1, base - math.floor(base))):
        k = min(max(k, 2), n // span, starts)  # mask_min_spans = 2, and the sampler's caps
        covered = 0.0
        for t in range(n):
            w = min(t, starts - 1) - max(0, t - span + 1) + 1  # starts whose span covers frame t
            covered += 1 - math.comb(starts - w, k) / math.comb(starts, k)
        share += p_k * covered / n
    return share


@pytest.mark.parametrize(("prob", "span"), [(0.65, 10), (0.3, 4)])
def test_masking_follows_the_config(prob, span):
    model = tiny(mask_time_prob=prob, mask_time_length=span)
    n, batch = 120, 16
    np.random.seed(0)
    attention = torch.ones(batch, n, dtype=torch.bool)
    masks = np.concatenate([model.sample_mask(attention) for _ in range(150)])  # (2400, n)
    assert masks.mean() == pytest.approx(expected_masked_share(n, prob, span), abs=0.01)
    for row in masks[:300]:  # every masked run is a union of whole spans
        edges = np.flatnonzero(np.diff(np.r_[0, row.astype(int), 0]))
        assert (np.diff(edges)[::2] >= span).all()


def test_masking_respects_padding_and_short_clips():
    model = tiny()
    np.random.seed(1)
    lengths = torch.tensor([100, 60, 11, 6])
    attention = torch.arange(100)[None] < lengths[:, None]
    for _ in range(50):
        mask = model.sample_mask(attention)
        assert not (mask & ~attention.numpy()).any()
        assert mask[3].sum() == 0  # shorter than one span: never masked
        assert mask[:3].sum(1).min() >= 10  # at least one span (two requested, they may overlap)


def test_negatives_are_other_masked_frames_of_the_same_clip():
    model = tiny(num_negatives=100)
    np.random.seed(2)
    lengths = torch.tensor([120, 70, 30, 5])
    attention = torch.arange(120)[None] < lengths[:, None]
    for _ in range(20):
        mask = model.sample_mask(attention)
        neg = model.sample_negatives(mask)  # (B, T, K) flat indices into B * T
        assert neg.shape[-1] == min(100, mask.sum(1).max() - 1)  # fewer than 100 when clips are short
        b, t = np.nonzero(mask)
        picked = neg[b, t]  # (M, K)
        assert (picked != (b * 120 + t)[:, None]).all()  # never the positive itself
        assert (picked // 120 == b[:, None]).all()  # same clip
        assert mask.reshape(-1)[picked].all()  # only masked frames are distractors
    few = tiny(num_negatives=5)
    assert few.sample_negatives(few.sample_mask(attention)).shape[-1] == 5


def test_loss_on_a_batch_with_short_clips():
    model = tiny()
    np.random.seed(3)
    batch = Sign2Vec.collate([torch.randn(n, 255) for n in (50, 12, 4)])
    assert batch["inputs"].shape == (3, 50, 255) and batch["attention_mask"].sum(1).tolist() == [50, 12, 4]
    loss, metrics = model.loss(batch)
    loss.backward()
    assert torch.isfinite(loss) and metrics["negatives"] >= 1 and 0 < metrics["perplexity"] <= 32
    zero, _ = model.loss(Sign2Vec.collate([torch.randn(5, 255)]))  # nothing maskable: a harmless zero
    assert zero.item() == 0 and zero.requires_grad


def test_features_shape_and_windows(synth):
    model = tiny(max_frames=40)
    clip = sorted((synth / "poses").glob("*.pose"))[0]
    from pose.features import sign2vec_view_255
    from pose.io import read_pose

    view = torch.from_numpy(sign2vec_view_255(read_pose(clip))[0])  # (T, 255)
    assert len(view) > 80  # longer than two windows: features run as overlapping windows
    feats = model.features(read_pose(clip))
    assert feats.shape == (len(view), model.dim) and feats.dtype == np.float32 and model.dim == 64
    assert np.isfinite(feats).all() and model.training  # the train/eval mode is restored
    np.testing.assert_array_equal(feats, model.features(clip))  # unmasked and deterministic; a path works too
    model.eval()
    with torch.no_grad():  # the first 20 frames come from the first window (their middle half and before)
        first = model.encode(view[None, :40], torch.ones(1, 40, dtype=torch.bool))[0, :20]
    np.testing.assert_allclose(feats[:20], first.numpy(), atol=1e-5)


def test_resume_continues_the_same_loss_curve(synth, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    pretrain(run_config(synth, straight), progress=False)
    # stop after step 4, mid-epoch (12 clips, batches of 4), then rerun the same command
    pretrain(run_config(synth, resumed), progress=False, should_stop=lambda step: step == 4)
    assert len(losses(resumed)) == 4
    pretrain(run_config(synth, resumed), progress=False)
    a, b = losses(straight), losses(resumed)
    assert [r["step"] for r in b] == list(range(1, 9))
    for key in ("loss", "contrastive", "perplexity", "temperature"):
        np.testing.assert_allclose([r[key] for r in b], [r[key] for r in a], rtol=1e-5, err_msg=key)


def test_load_objective_round_trip(synth, tmp_path):
    run = tmp_path / "run"
    pretrain(run_config(synth, run, max_steps=2), progress=False)
    objective, cfg = load_objective(run / "last")
    assert isinstance(objective, Sign2Vec) and cfg.objective == "sign2vec" and not objective.training
    assert objective.config == Sign2VecConfig(size="tiny", max_frames=80)
    assert float(objective.gumbel_temperature) < 2.0  # the decayed temperature came back too
    clip = sorted((synth / "poses").glob("*.pose"))[0]
    again, _ = load_objective(run / "last")
    np.testing.assert_array_equal(objective.features(clip), again.features(clip))
    # a new run can start from it (init is read once; a resumed or reloaded model never reads it again)
    started = Sign2Vec(Sign2VecConfig(size="tiny", max_frames=80, init=str(run / "last")))
    assert int(started.initialized) == 0
    np.testing.assert_allclose(started.eval().features(clip), objective.features(clip), atol=1e-6)
    assert int(started.initialized) == 1


@pytest.mark.parametrize(("encoder", "norm"), [("conv", "standardize"), ("mlp", "center"), ("conv", "none")])
def test_one_output_per_frame_and_padding_does_not_leak(encoder, norm):
    model = tiny(feature_encoder=encoder, input_norm=norm)
    model.loss(Sign2Vec.collate([torch.randn(40, 255)]))  # a training step sets the input statistics
    model.eval()
    clips = [torch.randn(30, 255), torch.randn(18, 255)]
    batch = Sign2Vec.collate(clips)
    with torch.no_grad():
        padded = model.encode(batch["inputs"], batch["attention_mask"])  # (2, 30, H)
        alone = model.encode(clips[1][None], torch.ones(1, 18, dtype=torch.bool))  # (1, 18, H)
    assert padded.shape == (2, 30, 64)
    torch.testing.assert_close(padded[1, :18], alone[0], atol=1e-5, rtol=1e-4)
