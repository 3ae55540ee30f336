"""Collapse checks for sign features: the original system's sign embeddings collapsed into 1-2
clusters, so every extraction prints how spread its features are and, on synthsign, whether the
same sign performed by other signers is its nearest neighbour."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch


def effective_rank(tokens: torch.Tensor) -> float:
    """exp(entropy) of the normalized singular values of ``tokens (N, H)``, centred."""
    if tokens.shape[0] < 2:
        return float(tokens.shape[0])
    x = tokens.float() - tokens.float().mean(0, keepdim=True)
    s = torch.linalg.svdvals(x)
    p = s / s.sum().clamp(min=1e-12)
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


@dataclass
class FeatureStats:
    clips: int
    frames: int
    dim: int
    mean_variance: float  # per-dimension variance over frames, averaged
    dead_dims: int  # dimensions with (near) zero variance
    effective_rank: float  # of (up to 4,096) frames sampled evenly

    def summary(self) -> str:
        return (
            f"{self.clips} clips, {self.frames} frames, dim {self.dim}: variance per dim {self.mean_variance:.4g} "
            f"({self.dead_dims} dims ~constant), effective rank {self.effective_rank:.1f}"
        )


def feature_stats(features: Mapping[str, np.ndarray], sample: int = 4096) -> FeatureStats:
    """Spread of a stream's per-frame features (a collapsed encoder shows a tiny rank and variance)."""
    arrays = [np.asarray(features[k], np.float32) for k in features]
    frames = np.concatenate(arrays) if arrays else np.zeros((0, 1), np.float32)
    var = frames.var(0) if len(frames) else np.zeros(frames.shape[1])
    pick = frames[np.linspace(0, len(frames) - 1, min(sample, len(frames))).astype(int)] if len(frames) else frames
    return FeatureStats(
        clips=len(arrays),
        frames=int(len(frames)),
        dim=int(frames.shape[1]),
        mean_variance=float(var.mean()) if var.size else 0.0,
        dead_dims=int((var < 1e-8).sum()),
        effective_rank=effective_rank(torch.from_numpy(pick)) if len(pick) else 0.0,
    )


def sign_retrieval(features: Mapping[str, np.ndarray], records: Sequence) -> tuple[float, int]:
    """Top-1 retrieval of the same sign across signers: each gloss occurrence (features mean-pooled
    over its ``sign_frames``) queries every occurrence from *other* documents (another signer) by
    cosine similarity; the share whose nearest neighbour is the same gloss, and the query count.
    ``records``: synthsign metadata records (``pose.synth.load_metadata``) of clips in ``features``."""
    vectors, glosses, docs = [], [], []
    for r in records:
        if r.sentence_name not in features:
            continue
        clip = np.asarray(features[r.sentence_name], np.float32)
        for gloss, (a, b) in zip(r.glosses, r.sign_frames, strict=True):
            if b > a and b <= len(clip):
                vectors.append(clip[a:b].mean(0))
                glosses.append(gloss)
                docs.append(r.video_id)
    if len(vectors) < 2:
        return 0.0, 0
    x = torch.nn.functional.normalize(torch.from_numpy(np.stack(vectors)), dim=1)
    sim = x @ x.T  # (N, N)
    docs_arr = np.array(docs)
    same_doc = torch.from_numpy(docs_arr[:, None] == docs_arr[None, :])
    sim = sim.masked_fill(same_doc, -2.0)  # never retrieve from the query's own document (same signer)
    has_other = (~same_doc).any(1)
    best = sim.argmax(1)
    glosses_arr = np.array(glosses)
    hits = glosses_arr[best.numpy()] == glosses_arr
    queries = int(has_other.sum())
    return float(hits[has_other.numpy()].mean()) if queries else 0.0, queries
