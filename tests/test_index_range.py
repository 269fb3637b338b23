"""``backend.indices_in_range(indices, size)``: the range check ``F.embedding`` and
``F.cross_entropy`` make before indexing. The specification: it answers exactly
"min >= 0 and max < size" (True for no indices), for every integer dtype and for views."""
import numpy as np
import pytest

from minigrad import backend


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint32", "uint64"])
def test_indices_in_range_is_min_at_least_zero_and_max_below_size(dtype):
    rng = np.random.default_rng(0)
    signed = np.dtype(dtype).kind == "i"
    for _ in range(200):
        low = -5 if signed else 0
        values = rng.integers(low, 12, size=rng.integers(0, 6)).astype(dtype)
        for size in (0, 1, 7, 11, 12, 13):
            expected = values.size == 0 or (values.min() >= 0 and values.max() < size)
            assert backend.indices_in_range(values, size) == expected, (values, size)


def test_indices_in_range_reads_views_and_extremes():
    table = np.arange(20, dtype=np.int64).reshape(4, 5)
    assert backend.indices_in_range(table[:, ::2], 20)
    assert not backend.indices_in_range(table[:, ::2], 14)
    extremes = np.array([np.iinfo(np.int64).min, 0], dtype=np.int64)
    assert not backend.indices_in_range(extremes, 10)
    assert not backend.indices_in_range(np.array([-1], dtype=np.int64), 2 ** 62)
