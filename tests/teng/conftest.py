"""Small dense LAPACK calls: one thread (multithreaded MKL on a loaded 2-core runner is 100× slower)."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
