"""The arithmetic of one recurrent step on arrays, and its backward, with few array calls.

At min-char-rnn's size (B=1, H=100) an array operation costs about a microsecond whatever
it computes, so a step's speed is the number of calls it makes. The one-node cells
(``rnn_cells.py``) and the time loops of a layer (``rnn_sequence.py``) both compute with
the functions here, so the two give the same bits.

**Forward, LSTM.** The four gates need σ for i, f, o and tanh for g. With
σ(a) = ½ tanh(a/2) + ½ (which never overflows) all four are one tanh of the row scaled
column by column, s = [½, ½, 1, ½] per gate::

    gates = tanh(a ⊙ s) ⊙ s + (1 − s)        = [σ(a_i), σ(a_f), tanh(a_g), σ(a_o)]

(multiplying by ½ or 1 is exact, so this is bit for bit σ and tanh as written apart).

**Backward: factors first.** Every gate gradient of a step is a product of the arriving
gradient with something forward already knows. For the LSTM, with dh the gradient reaching
h_t and dc the one reaching c_t through both paths::

    dc   = dh ⊙ o (1 − tanh² c_t) + dc_next                    K_c = o (1 − tanh² c_t)
    da_i = dc ⊙ g σ'(i),  da_f = dc ⊙ c_{t−1} σ'(f),  da_g = dc ⊙ i (1 − g²)
    da_o = dh ⊙ tanh c_t σ'(o)                                  σ'(s) = s (1 − s)

so the factors K = [g σ'(i), c_{t−1} σ'(f), i (1 − g²), tanh c_t σ'(o)] are computed for
all T steps at once, before the loop (``lstm_factors`` on (T, B, 4H) arrays), into the
buffer that becomes d a; each step then only multiplies them by dc and dh in place. Per
step that is six array calls (the hand-written reference makes about twenty). The GRU and
the RNN do the same with their own factors.
"""
from __future__ import annotations


# -- LSTM -------------------------------------------------------------------------------
def lstm_constants(xp, H, dtype):
    """(s, 1 − s) with s = [½]·2H + [1]·H + [½]·H: the gate scaling of the docstring."""
    scale = xp.full((4 * H,), 0.5, dtype=dtype)
    scale[2 * H:3 * H] = 1
    return scale, 1 - scale


def lstm_forward(xp, gates, xw, c, constants, c_out, tanh_c_out, h_out):
    """One step: ``gates`` holds h W_hhᵀ (B, 4H) and becomes the activations i, f, g, o;
    c' = f ⊙ c + i ⊙ g into ``c_out``, tanh c' into ``tanh_c_out``, h' = o ⊙ tanh c' into
    ``h_out`` (each may be None: then a new array)."""
    scale, shift = constants
    gates += xw
    gates *= scale
    xp.tanh(gates, out=gates)
    gates *= scale
    gates += shift
    H = c.shape[-1]
    c_next = xp.multiply(gates[:, H:2 * H], c, out=c_out)                 # f ⊙ c
    c_next += gates[:, :H] * gates[:, 2 * H:3 * H]                      # + i ⊙ g
    tanh_c = xp.tanh(c_next, out=tanh_c_out)
    return xp.multiply(gates[:, 3 * H:], tanh_c, out=h_out), c_next, tanh_c


def lstm_factors(xp, gates, c_prev, tanh_c, K, K_c):
    """The backward factors of the docstring for any number of leading axes: ``K`` (…, 4H)
    and ``K_c`` (…, H), written in place. ``c_prev`` None: the caller multiplies the forget
    gate's factor ``K[..., H:2H]`` by c_{t−1} itself (a layer does, without a shifted copy
    of its cell states)."""
    H = tanh_c.shape[-1]
    i, g, o = gates[..., :H], gates[..., 2 * H:3 * H], gates[..., 3 * H:]
    xp.subtract(1, gates, out=K)
    K *= gates                                             # σ'(s) = s (1 − s) in every column
    K[..., :H] *= g
    if c_prev is not None:
        K[..., H:2 * H] *= c_prev
    K_g = K[..., 2 * H:3 * H]
    xp.multiply(g, g, out=K_g)
    xp.subtract(1, K_g, out=K_g)
    K_g *= i
    K[..., 3 * H:] *= tanh_c
    xp.multiply(tanh_c, tanh_c, out=K_c)
    xp.subtract(1, K_c, out=K_c)
    K_c *= o
    return K, K_c


def lstm_backward(K4, K_c, f, gh, gc):
    """One step of backward: ``K4`` (B, 4, H), this step's factors seen gate by gate,
    becomes d a in place; returns dc_{t−1} = dc ⊙ f. ``gh``, ``gc``: the gradients reaching
    h_t and c_t (either may be None)."""
    if gh is not None:
        dc = gh * K_c
        if gc is not None:
            dc += gc
        K4[:, 3] *= gh
    else:
        K4[:, 3] = 0
        dc = gc
    K4[:, :3] *= dc[:, None, :]
    return dc * f


# -- GRU --------------------------------------------------------------------------------
def gru_forward(xp, hw, xw, h, n_out, h_out):
    """One step: ``hw`` = h W_hhᵀ + b_hh (B, 3H); its r, z columns become σ(xw + hw) in place
    (hw_n stays); n = tanh(xw_n + r ⊙ hw_n) into ``n_out``; h' = n + z ⊙ (h − n) into ``h_out``."""
    H = h.shape[-1]
    rz = hw[:, :2 * H]
    rz += xw[:, :2 * H]
    rz *= 0.5
    xp.tanh(rz, out=rz)
    rz *= 0.5
    rz += 0.5
    hw_n = hw[:, 2 * H:]
    n = xp.multiply(rz[:, :H], hw_n, out=n_out)
    n += xw[:, 2 * H:]
    xp.tanh(n, out=n)
    h_next = xp.subtract(h, n, out=h_out)
    h_next *= rz[:, H:]
    h_next += n
    return h_next, n


def gru_factors(xp, rz_hw, n, h_prev, K_x, K_h):
    """Backward factors, any leading axes: ``rz_hw`` (…, 3H) holds r, z and hw_n. With
    K_n = (1 − z)(1 − n²), K_r = K_n hw_n r (1 − r), K_z = (h_{t−1} − n) z (1 − z):
    ``K_x`` = [K_r, K_z, K_n] (d xw = dh ⊙ K_x) and ``K_h`` = [K_r, K_z, K_n r] (d hw)."""
    H = n.shape[-1]
    r, z, hw_n = rz_hw[..., :H], rz_hw[..., H:2 * H], rz_hw[..., 2 * H:]
    K_r, K_z, K_n = K_x[..., :H], K_x[..., H:2 * H], K_x[..., 2 * H:]
    xp.multiply(n, n, out=K_n)
    xp.subtract(1, K_n, out=K_n)
    K_n *= 1 - z
    xp.subtract(1, r, out=K_r)
    K_r *= r
    K_r *= hw_n
    K_r *= K_n
    xp.subtract(1, z, out=K_z)
    K_z *= z
    K_z *= h_prev - n
    K_h[...] = K_x
    K_h[..., 2 * H:] *= r
    return K_x, K_h


def gru_backward(Kx3, Kh3, z, gh):
    """One step: ``Kx3``, ``Kh3`` (B, 3, H) become d xw and d hw in place; returns the
    gradient h_{t−1} gets directly, dh ⊙ z (the path through W_hh is the caller's matmul)."""
    g = gh[:, None, :]
    Kx3 *= g
    Kh3 *= g
    return gh * z


# -- RNN --------------------------------------------------------------------------------
def rnn_forward(xp, pre, xw, nonlinearity, h_out):
    """One step: ``pre`` holds h W_hhᵀ; h' = φ(pre + xw) into ``h_out``."""
    pre += xw
    if nonlinearity == "tanh":
        return xp.tanh(pre, out=h_out)
    return xp.maximum(pre, 0, out=h_out)


def rnn_factors(xp, h_next, nonlinearity, out):
    """φ'(pre) from the output, any leading axes: 1 − h'² for tanh, [h' > 0] for relu."""
    if nonlinearity == "tanh":
        xp.multiply(h_next, h_next, out=out)
        return xp.subtract(1, out, out=out)
    return xp.greater(h_next, 0, out=out)
