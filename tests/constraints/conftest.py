"""Fixtures of the hard-constraint tests (helpers live in constraints_helpers.py)."""

from __future__ import annotations

import warnings

import pytest
import torch

warnings.filterwarnings("ignore", message="Sparse")


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread avoids contention on the 2-core CI (restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
