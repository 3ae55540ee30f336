"""The optimizer every stage shares: one weight-decay rule, and its settings checked."""

from __future__ import annotations

import pytest

from pose.errors import InputError
from pretrain.optim import OptimConfig, decay_groups
from tests.pretrain.conftest import Toy


def test_one_decay_rule_matrices_decay_vectors_and_listed_names_do_not():
    groups = decay_groups(Toy(), 0.1)
    assert [len(g["params"]) for g in groups] == [1, 2] and [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert groups[0]["params"][0].shape == (1, 4)  # the Linear weight; bias and the listed offset do not decay


def test_optimizer_values_are_checked():
    for bad in ({"lr": 0}, {"max_steps": 0}, {"warmup_ratio": 1.0}, {"grad_clip": -1}):
        with pytest.raises(InputError, match="is invalid"):
            OptimConfig(**bad)
