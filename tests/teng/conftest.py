"""Small dense LAPACK calls: torch on one thread for this folder."""

import pytest
from helpers import single_thread

one_thread = pytest.fixture(autouse=True, scope="package")(single_thread)
