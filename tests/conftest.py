"""Shared test helpers: gradients are checked in float64, against finite differences."""
import os

import numpy as np
import pytest

import minigrad

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared")


@pytest.fixture(autouse=True)
def _seed():
    minigrad.manual_seed(0)
    np.random.seed(0)
    yield


def randn64(*shape, requires_grad=True, rng=None):
    """A float64 leaf with standard-normal entries."""
    rng = rng or np.random.default_rng(1)
    return minigrad.tensor(rng.standard_normal(shape), requires_grad=requires_grad,
                           dtype=minigrad.float64)


def tinyshakespeare_path():
    """The shared corpus, or skip when it is absent."""
    path = os.path.abspath(os.path.join(SHARED, "data", "tinyshakespeare.txt"))
    if not os.path.exists(path):
        pytest.skip(f"{path} is absent")
    return path
