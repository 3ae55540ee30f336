from __future__ import annotations

import pytest
import torch

from signllava.model.splice import splice


def test_positions_and_order_with_left_padding():
    ids = torch.tensor([[0, 0, 5, 9, 9, 6, 1], [5, 9, 6, 1, 9, 9, 9]])  # 9 = placeholder, 5/6 delimiters
    text = torch.zeros(2, 7, 3)
    signs = torch.arange(6 * 3, dtype=torch.float32).view(6, 3) + 1
    start, end = torch.full((3,), -1.0), torch.full((3,), -2.0)
    out = splice(text, ids, {9: signs, 5: start, 6: end})
    assert torch.equal(out[0, 3], signs[0]) and torch.equal(out[0, 4], signs[1])
    assert torch.equal(out[1, 1], signs[2]) and torch.equal(out[1, 4:], signs[3:])
    assert (out[ids == 5] == -1).all() and (out[ids == 6] == -2).all()
    assert (out[ids < 5] == 0).all() and (text == 0).all()  # untouched elsewhere, input not modified


def test_gradients_flow_to_replacements_only():
    ids = torch.tensor([[1, 9, 9, 2]])
    text = torch.randn(1, 4, 3, requires_grad=True)
    signs = torch.randn(2, 3, requires_grad=True)
    splice(text, ids, {9: signs}).sum().backward()
    assert torch.equal(signs.grad, torch.ones(2, 3))
    assert torch.equal(text.grad[0, 1:3], torch.zeros(2, 3)) and torch.equal(text.grad[0, 0], torch.ones(3))


def test_count_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 placeholder positions but 3 vectors"):
        splice(torch.zeros(1, 4, 3), torch.tensor([[1, 9, 9, 2]]), {9: torch.zeros(3, 3)})
