"""The objective registry: objectives register at import, a taken or malformed name is refused."""

from __future__ import annotations

import pytest

from pretrain import objective
from pretrain.dino import Dino


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
