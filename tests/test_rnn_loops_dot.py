"""The CPU time loops (minigrad/ops/rnn_loops.py) multiply by W_hh with ``xp.dot``; the
per-step path (``RecurrentSequence._forward_per_step`` / ``_backward_per_step``, what a
GPU runs and what a one-node cell step computes on its own) uses ``@``. The specification:
both give the same bits, forward and backward, for every cell, both directions, float32
and float64, at the lecture's size (B=1, H=100) and at small odd sizes. From B = 2 on, both
multiply by the C-ordered copy of W_hhᵀ that ``transposed_weight`` makes (on the CPU)."""
import numpy as np
import pytest

from minigrad.ops.rnn_loops import transposed_weight
from minigrad.ops.rnn_sequence import RecurrentSequence

MODES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def arrays(mode, T, B, H, dtype, seed=0):
    rng = np.random.default_rng(seed)
    G = MODES[mode] * H
    xw = rng.standard_normal((T, B, G)).astype(dtype)
    w_hh = (rng.standard_normal((G, H)) / np.sqrt(H)).astype(dtype)
    b_hh = rng.standard_normal(G).astype(dtype) if mode == "GRU" else None
    h0 = rng.standard_normal((B, H)).astype(dtype)
    c0 = rng.standard_normal((B, H)).astype(dtype) if mode == "LSTM" else None
    g_hs = rng.standard_normal((T, B, H)).astype(dtype)
    g_cs = rng.standard_normal((T, B, H)).astype(dtype) if mode == "LSTM" else None
    return xw, w_hh, b_hh, h0, c0, g_hs, g_cs


def run(mode, reverse, data, per_step):
    xw, w_hh, b_hh, h0, c0, g_hs, g_cs = data
    sequence = RecurrentSequence(mode, reverse=reverse)
    if per_step:
        order = sequence._steps(xw.shape[0])
        sequence.h0 = h0
        hs, cs = sequence._forward_per_step(np, xw, w_hh, b_hh, h0, c0, order)
    else:
        hs, cs = sequence.forward_loop(xw, w_hh, b_hh, h0, c0)
    outputs = [hs.copy()] + ([] if cs is None else [cs.copy()])
    grads = sequence.backward_loop(w_hh, hs, g_hs, g_cs)
    return outputs + [g for g in grads if g is not None]


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, H", [(25, 1, 100), (4, 3, 5), (3, 8, 130)])
def test_the_loops_give_the_bits_of_the_per_step_path(mode, reverse, dtype, T, B, H):
    data = arrays(mode, T, B, H, dtype)
    looped = run(mode, reverse, data, per_step=False)
    stepped = run(mode, reverse, data, per_step=True)
    assert len(looped) == len(stepped)
    for a, b in zip(looped, stepped):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("G, H", [(5, 3), (600, 7), (520, 130)])
def test_transposed_weight_is_the_view_for_one_row_and_a_c_ordered_copy_for_more(G, H):
    w_hh = np.random.default_rng(1).standard_normal((G, H)).astype(np.float32)
    view = transposed_weight(np, w_hh, 1)
    assert view.base is w_hh and np.array_equal(view, w_hh.T)
    for batch in (2, 32):
        copy = transposed_weight(np, w_hh, batch)
        assert copy.shape == (H, G) and copy.flags.c_contiguous
        assert not np.shares_memory(copy, w_hh)
        assert copy.tobytes() == np.ascontiguousarray(w_hh.T).tobytes()
