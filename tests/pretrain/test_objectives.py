"""The shipped objectives, looked up by name."""

from __future__ import annotations

import pytest

from pose.errors import InputError
from pretrain.dino import Dino
from pretrain.mae import MAEObjective
from pretrain.objectives import objective_class
from pretrain.sign2vec import Sign2Vec


def test_every_builtin_objective_is_registered_under_its_name():
    assert {name: objective_class(name) for name in ("dino", "mae", "sign2vec")} == {
        "dino": Dino,
        "mae": MAEObjective,
        "sign2vec": Sign2Vec,
    }
    assert (Dino.name, MAEObjective.name, Sign2Vec.name) == ("dino", "mae", "sign2vec")


def test_an_unknown_name_is_a_one_line_error_listing_the_known_ones():
    with pytest.raises(InputError, match=r"^unknown objective 'dinov3': choose from dino, mae, sign2vec$"):
        objective_class("dinov3")
