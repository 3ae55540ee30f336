"""Shared by the encoder tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The tiny models' ops are too small to split: on a busy 2-core machine a second thread only
    adds waiting (10-100x slower measured)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
