"""``backend.add_rows`` (the embedding backward's scatter): repeated rows accumulate, negative
rows count from the end as NumPy indexing does, and the target's own values are kept."""
import numpy as np
import pytest

from minigrad import backend


@pytest.mark.parametrize("rows", [[2, 0, 2, 2, 4], [-1, 0, 4, -5, 3], [1, 3], [-2, 3, 3]])
def test_add_rows_matches_numpy_add_at(rows):
    rng = np.random.default_rng(len(rows))
    rows = np.array(rows)
    values = rng.standard_normal((rows.size, 3))
    target = rng.standard_normal((5, 3))
    expected = target.copy()
    np.add.at(expected, rows, values)
    backend.add_rows(target, rows, values)
    np.testing.assert_allclose(target, expected, rtol=1e-14, atol=1e-15)


def test_add_rows_sums_a_repeated_row_before_adding_it():
    # t + (a + b), not (t + a) + b: in float32 the two differ for these numbers
    target = np.array([[1.0]], np.float32)
    values = np.array([[2.0 ** -24], [2.0 ** -24]], np.float32)
    backend.add_rows(target, np.array([0, -1]), values)
    assert target[0, 0] == np.float32(1.0) + np.float32(2.0 ** -23)


@pytest.mark.parametrize("n_rows, width", [(25, 100), (3000, 16), (40000, 2)])
def test_small_and_large_scatters_sum_the_same(n_rows, width):
    # below backend._SMALL_SCATTER values element-wise add.at, above it the sorted runs:
    # both equal numpy.add.at (a table of 65 rows, many repeats)
    rng = np.random.default_rng(n_rows)
    rows = rng.integers(-65, 65, n_rows)
    values = rng.standard_normal((n_rows, width))
    target = rng.standard_normal((65, width))
    expected = target.copy()
    np.add.at(expected, rows, values)
    backend.add_rows(target, rows, values)
    np.testing.assert_allclose(target, expected, rtol=1e-12, atol=1e-12)


def test_a_small_scatter_adds_each_rows_values_in_index_order():
    rows = np.array([3, 1, 3, 3, 0])
    values = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    target = np.zeros((4, 4), np.float32)
    backend.add_rows(target, rows, values)
    looped = np.zeros((4, 4), np.float32)
    for r, v in zip(rows, values):
        looped[r] += v
    assert np.array_equal(target, looped)


@pytest.mark.parametrize("dtype, width", [(np.float32, 256), (np.float32, 512), (np.float64, 128)])
def test_rows_a_kib_long_are_summed_in_the_same_order(dtype, width):
    # such rows are gathered into a padded buffer before add.reduceat (backend._gathered_rows):
    # the same sums, bit for bit, as add.reduceat over the rows as they are
    rng = np.random.default_rng(width)
    rows = rng.integers(0, 65, 3000)
    values = rng.standard_normal((rows.size, width)).astype(dtype)
    target = rng.standard_normal((65, width)).astype(dtype)
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    expected = target.copy()
    expected[ordered[starts]] += np.add.reduceat(values[order], starts, axis=0)
    backend.add_rows(target, rows, values)
    assert target.tobytes() == expected.tobytes()
