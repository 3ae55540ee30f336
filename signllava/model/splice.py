"""Splicing sign tokens into text embeddings: one pure, differentiable function."""

from __future__ import annotations

import torch


def splice(
    text_embeds: torch.Tensor,
    input_ids: torch.Tensor,
    replacements: dict[int, torch.Tensor],
) -> torch.Tensor:
    """Return ``text_embeds (B, L, H)`` with placeholder positions replaced.

    ``replacements`` maps a placeholder token id to the vectors for its positions: either one
    vector ``(H,)`` used at every position of that id (a learned delimiter), or ``(N, H)`` with
    exactly one row per position, in row-major order of ``input_ids`` (sample by sample, left to
    right) — so padding side does not matter. Gradients flow into the replacements; the input is
    not modified.
    """
    out = text_embeds
    for token_id, vectors in replacements.items():
        where = input_ids == token_id  # (B, L)
        count = int(where.sum())
        if vectors.dim() == 1:
            vectors = vectors.expand(count, -1)
        elif vectors.shape[0] != count:
            raise ValueError(f"token {token_id}: {count} placeholder positions but {vectors.shape[0]} vectors")
        if count == 0:
            continue
        out = out.masked_scatter(where.unsqueeze(-1), vectors.to(out.dtype))
    return out
