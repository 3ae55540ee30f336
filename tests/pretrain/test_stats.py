"""Collapse checks for extracted features: spread (variance, dead dimensions, effective rank) and
whether a sign's nearest neighbour from another signer is the same sign."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from pretrain.stats import effective_rank, feature_stats, sign_retrieval


def test_effective_rank_counts_the_directions_used():
    basis = torch.eye(8)[:3] * 2.0
    spread = torch.cat([basis, -basis])  # three directions, equal spread
    assert effective_rank(spread) == pytest.approx(3.0, rel=1e-4)
    assert effective_rank(spread + 5.0) == pytest.approx(3.0, rel=1e-4)  # centred: an offset changes nothing
    line = torch.linspace(-1, 1, 50)[:, None] * torch.ones(1, 8)
    assert effective_rank(line) == pytest.approx(1.0, rel=1e-3)  # collapsed onto one direction
    assert effective_rank(torch.zeros(1, 8)) == 1.0 and effective_rank(torch.zeros(0, 8)) == 0.0


def test_feature_stats_find_dead_dimensions():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 4)).astype(np.float16)
    a[:, 3] = 0.5  # one dimension never moves
    stats = feature_stats({"a": a, "b": a[:10]})
    assert (stats.clips, stats.frames, stats.dim, stats.dead_dims) == (2, 40, 4, 1)
    frames = np.concatenate([a, a[:10]]).astype(np.float32)
    assert stats.mean_variance == pytest.approx(float(frames.var(0).mean()))
    assert 2.5 < stats.effective_rank <= 3.0
    assert "2 clips, 40 frames, dim 4" in stats.summary() and "(1 dims ~constant)" in stats.summary()
    empty = feature_stats({})
    assert (empty.clips, empty.frames, empty.effective_rank) == (0, 0, 0.0)


def record(video: str, name: str, glosses: tuple, spans: tuple) -> SimpleNamespace:
    """What sign_retrieval reads of a synthsign metadata record."""
    return SimpleNamespace(video_id=video, sentence_name=name, glosses=glosses, sign_frames=spans)


def test_a_sign_is_retrieved_from_another_signers_document():
    rng = np.random.default_rng(1)
    prototype = {g: rng.standard_normal(16) for g in "ABC"}

    def clip(glosses, noise=0.05) -> np.ndarray:  # 4 frames per sign
        return np.concatenate([np.tile(prototype[g], (4, 1)) + noise * rng.standard_normal((4, 16)) for g in glosses])

    spans = ((0, 4), (4, 8), (8, 12))
    records = [record("d1", "d1_0", ("A", "B", "C"), spans), record("d2", "d2_0", ("C", "A", "B"), spans)]
    features = {"d1_0": clip("ABC"), "d2_0": clip("CAB")}
    assert sign_retrieval(features, records) == (1.0, 6)
    swapped = {"d1_0": features["d1_0"], "d2_0": clip("ABC")}  # d2 now looks like A B C where it signs C A B
    assert sign_retrieval(swapped, records) == (0.0, 6)
    assert sign_retrieval(features, records[:1]) == (0.0, 0)  # one document: no other signer to ask
    assert sign_retrieval({"d1_0": features["d1_0"]}, records) == (0.0, 0)  # d2's clip has no features
    short = [records[0], record("d2", "d2_0", ("C", "A", "B"), ((0, 4), (4, 8), (8, 40)))]
    # a span past the clip's end is left out: d2's B, so d1's B finds no B to match (4 of 5 right)
    assert sign_retrieval(features, short) == (0.8, 5)
