"""The names a user reaches for come from the top of the package, and ``import signllava`` stays light."""

import subprocess
import sys

import pytest

import signllava


def test_every_top_level_name_is_the_object_its_room_defines():
    import importlib

    assert set(signllava.__all__) == {"__version__", *signllava._EXPORTS}
    for name, module in signllava._EXPORTS.items():
        assert getattr(signllava, name) is getattr(importlib.import_module(module), name), name
        assert name in dir(signllava)
    from signllava import QASession, Translator  # the README's and the notebook's spelling

    assert Translator.__module__ == "signllava.inference.translator"
    assert QASession.__module__ == "signllava.notebook"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Translatr'"):
        signllava.Translatr  # noqa: B018
    with pytest.raises(ImportError):
        from signllava import Translatr  # noqa: F401


def test_importing_the_package_loads_no_model_code():
    heavy = "('torch', 'transformers', 'signllava.inference')"
    code = f"import sys, signllava; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
