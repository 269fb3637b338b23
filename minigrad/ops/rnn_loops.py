"""The time loops of a recurrent layer on the CPU: forward step by step, backward with the
factors of every step computed at once.

Used by ``RecurrentSequence`` (``graph="layer"``) and by the segments of ``graph="steps"``
(``rnn_unrolled.py``). Each step is the arithmetic of ``rnn_arithmetic.py``, the same
functions a one-node cell step calls, on views of whole-sequence buffers, so a step run by
itself and the step inside the loop give the same bits. What the loop adds is that the
backward factors (``lstm_factors`` …) are computed for all T steps in one pass before the
loop, into the buffer that becomes d xw / d hw, and no step allocates.

The per-step products h W_hhᵀ and d a W_hh call ``xp.dot``: on 2-D arrays it is the same
BLAS call as ``matmul`` (the same bits; ``tests/test_rnn_loops_dot.py``) with less dispatch
around it, which at B=1 is a tenth of a step, and without NumPy's ``__array_function__``
dispatcher (``backend.undispatched``): 0.5 µs less of its 1.9 µs a product at B=1, H=100.
From B = 2 on, forward multiplies by a C-ordered copy of W_hhᵀ made once per sequence
(``transposed_weight``), which OpenBLAS runs 1.3–7× faster than the transposed view. A
one-node cell step on its own (``rnn_cells.py``) multiplies by the view, so from B = 2 on
its h W_hhᵀ may differ from the loop's in the last bit (BLAS's kernels for the two
layouts sum in their own orders); ``graph="steps"`` and ``graph="layer"`` both run these
loops and keep the same bits.

Every function takes ``order``, the time steps in the order forward runs them
(0 … T−1, or T−1 … 0 for a reversed direction), and returns the per-step caches in time
order, the very tuples the one-node cells keep as ``cell.cache``.
"""
from __future__ import annotations

from .. import backend
from . import rnn_arithmetic as math_


def previous_states(xp, states, first, order):
    """(T, B, H): the state each step started from, ``first`` for the step run first."""
    previous = xp.empty_like(states)
    if order[0] == 0:
        previous[0] = first
        previous[1:] = states[:-1]
    else:
        previous[-1] = first
        previous[:-1] = states[1:]
    return previous


def transposed_weight(xp, w_hh, batch):
    """W_hhᵀ (H, G) for forward's per-step products h_{t−1} W_hhᵀ, (B, H) @ (H, G).

    At B = 1 the transposed view: the product is a matrix-vector one, about as fast either
    way, and a copy would cost more than it saves. From B = 2 on, a C-ordered copy, made
    once for the T products of a sequence: OpenBLAS multiplies by it 1.3–7× faster than by
    the transposed view (single thread, B = 2 … 64, H = 16 … 512; H = 512, G = 4H, B = 32:
    1.07 ms against 1.40 ms a step) and the copy costs about one product. The copy goes in
    blocks of rows: NumPy's transposing copy of a (2048, 512) matrix at once takes 5× as
    long (the rows' power-of-two stride).

    The backward products d a W_hh already read W_hh in its own C order.
    """
    if batch < 2:
        return w_hh.T
    G, H = w_hh.shape
    out = xp.empty((H, G), dtype=w_hh.dtype)
    for start in range(0, G, 256):
        out[:, start:start + 256] = w_hh[start:start + 256].T
    return out


# -- LSTM --------------------------------------------------------------------------------
def lstm_forward(xp, xw, w_hh, b_hh, h, c, order):
    """(hs, cs, caches, whole) for xw (T, B, 4H); whole = (gates, tanh_c, cs, c_0)."""
    T, B, G = xw.shape
    H = G // 4
    gates, tanh_c = xp.empty((T, B, G), dtype=xw.dtype), xp.empty((T, B, H), dtype=xw.dtype)
    hs, cs = xp.empty((T, B, H), dtype=xw.dtype), xp.empty((T, B, H), dtype=xw.dtype)
    constants = math_.lstm_constants(xp, H, xw.dtype)
    w_hh_t, caches, c0 = transposed_weight(xp, w_hh, B), [None] * T, c
    dot = backend.undispatched(xp.dot)
    for t in order:
        a = gates[t]
        dot(h, w_hh_t, out=a)
        if b_hh is not None:
            a += b_hh
        caches[t] = (a, c, tanh_c[t])
        h, c, _ = math_.lstm_forward(xp, a, xw[t], c, constants, cs[t], tanh_c[t], hs[t])
    return hs, cs, caches, (gates, tanh_c, cs, c0)


def lstm_backward(xp, whole, w_hh, g_hs, g_cs, order):
    """(d a (T, B, 4H) = d xw = d hw, d h_0, d c_0) from the gradients arriving at each h_t
    and c_t from outside (``g_hs[t]`` / ``g_cs[t]`` None where none did)."""
    gates, tanh_c, cs, c0 = whole
    T, B, G = gates.shape
    H = G // 4
    da, K_c = xp.empty_like(gates), xp.empty_like(tanh_c)
    math_.lstm_factors(xp, gates, None, tanh_c, da, K_c)
    K_f = da[..., H:2 * H]                            # ⊙ c_{t−1}: the states one step back
    if order[0] == 0:
        K_f[1:] *= cs[:-1]
        K_f[0] *= c0
    else:
        K_f[:-1] *= cs[1:]
        K_f[-1] *= c0
    K4, f, dot = da.reshape(T, B, 4, H), gates[..., H:2 * H], backend.undispatched(xp.dot)
    dh = dc = None
    for t in reversed(order):
        gh = added(None if g_hs is None else g_hs[t], dh)
        gc = added(None if g_cs is None else g_cs[t], dc)
        if gh is None and gc is None:                     # nothing reached this step
            da[t] = 0
            continue
        dc = math_.lstm_backward(K4[t], K_c[t], f[t], gh, gc)
        dh = dot(da[t], w_hh)
    return da, dh, dc


# -- GRU ---------------------------------------------------------------------------------
def gru_forward(xp, xw, w_hh, b_hh, h, order):
    """(hs, caches, whole) for xw (T, B, 3H); whole = (hw with r, z in place, n, h_0)."""
    T, B, G = xw.shape
    H = G // 3
    hw, n = xp.empty((T, B, G), dtype=xw.dtype), xp.empty((T, B, H), dtype=xw.dtype)
    hs = xp.empty((T, B, H), dtype=xw.dtype)
    w_hh_t, caches, h0 = transposed_weight(xp, w_hh, B), [None] * T, h
    dot = backend.undispatched(xp.dot)
    for t in order:
        a = hw[t]
        dot(h, w_hh_t, out=a)
        if b_hh is not None:
            a += b_hh
        h, _ = math_.gru_forward(xp, a, xw[t], h, n[t], hs[t])
        caches[t] = (a, n[t])
    return hs, caches, (hw, n, h0)


def gru_backward(xp, whole, previous, w_hh, g_hs, order):
    """(d xw (T, B, 3H), d hw (T, B, 3H), d h_0) from the gradients arriving at each h_t;
    ``previous``: h_{t−1} of every step (``previous_states``)."""
    hw, n, _ = whole
    T, B, G = hw.shape
    H = G // 3
    dxw, dhw = xp.empty_like(hw), xp.empty_like(hw)
    math_.gru_factors(xp, hw, n, previous, dxw, dhw)
    Kx3, Kh3, z = dxw.reshape(T, B, 3, H), dhw.reshape(T, B, 3, H), hw[..., H:2 * H]
    dot, dh = backend.undispatched(xp.dot), None
    for t in reversed(order):
        gh = added(None if g_hs is None else g_hs[t], dh)
        if gh is None:
            dxw[t] = 0
            dhw[t] = 0
            continue
        direct = math_.gru_backward(Kx3[t], Kh3[t], z[t], gh)
        dh = dot(dhw[t], w_hh)
        dh += direct
    return dxw, dhw, dh


# -- RNN ---------------------------------------------------------------------------------
def rnn_forward(xp, xw, w_hh, b_hh, h, nonlinearity, order):
    """(hs, caches, whole) for xw (T, B, H); whole = hs (φ' is read off the outputs)."""
    T, B, H = xw.shape
    hs, pre = xp.empty((T, B, H), dtype=xw.dtype), xp.empty((B, H), dtype=xw.dtype)
    w_hh_t, caches = transposed_weight(xp, w_hh, B), [None] * T
    dot = backend.undispatched(xp.dot)
    for t in order:
        dot(h, w_hh_t, out=pre)
        if b_hh is not None:
            pre += b_hh
        h = caches[t] = math_.rnn_forward(xp, pre, xw[t], nonlinearity, hs[t])
    return hs, caches, hs


def rnn_backward(xp, hs, w_hh, g_hs, nonlinearity, order):
    """(d pre (T, B, H) = d xw = d hw, d h_0) from the gradients arriving at each h_t."""
    dpre = math_.rnn_factors(xp, hs, nonlinearity, xp.empty_like(hs))
    dot, dh = backend.undispatched(xp.dot), None
    for t in reversed(order):
        gh = added(None if g_hs is None else g_hs[t], dh)
        if gh is None:
            dpre[t] = 0
            continue
        d = dpre[t]
        d *= gh
        dh = dot(d, w_hh)
    return dpre, dh


def added(g, own):
    """g + own, either may be None; when both are arrays the sum goes into ``own``, the
    loop's own product of the step before (nobody else holds it): no new array a step."""
    if own is None:
        return g
    if g is not None:
        own += g
    return own


def plus(a, b):
    """a + b where either may be None (no gradient arrived)."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b
