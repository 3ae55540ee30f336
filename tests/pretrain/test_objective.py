"""The objective registry: objectives register at import, a taken or malformed name is refused."""

from __future__ import annotations

import pytest

from pose.errors import InputError
from pretrain import objective
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


def test_a_taken_name_is_refused_and_the_first_objective_stays(monkeypatch):
    monkeypatch.setattr(objective, "OBJECTIVES", dict(objective.OBJECTIVES))  # the test's additions go away

    class Toy:
        pass

    assert objective.register("toy")(Toy) is Toy and objective.OBJECTIVES["toy"] is Toy and Toy.name == "toy"

    class Other:
        pass

    for name, first in (("toy", Toy), ("dino", Dino)):
        with pytest.raises(ValueError, match=rf"already registered as '{name}'"):
            objective.register(name)(Other)
        assert objective.OBJECTIVES[name] is first
    assert not hasattr(Other, "name")


@pytest.mark.parametrize("name", ["", "Dino", "2vec", "sign 2 vec", "a-b", None])
def test_a_malformed_name_is_refused(name):
    with pytest.raises(ValueError, match="objective name"):
        objective.register(name)
