"""GPU kernels for the LSTM and GRU cell updates (CuPy ``ElementwiseKernel``).

On the GPU every array operation is a kernel launch, and a cell's gate algebra written
with array ops (three sigmoids, two tanhs, the products of the update, each in forward and
again in backward) is a dozen launches per step, each reading and writing all of (B, 4H).
Here each update is one kernel: a one-node LSTM step run by itself is the matmul
``h @ W_hhᵀ``, its bias add, and one kernel (the input projection ``x @ W_ihᵀ`` is one
matmul for all T steps, made by ``nn.LSTM`` before its loop); backward is one kernel and
the two weight matmuls. A whole layer's loop is one direct cuBLAS call and one launch per
step, in both directions, with no allocation inside it: ``graph="layer"`` runs it as its
one node, and the default ``graph="steps"`` records its step nodes around the same loop
(``rnn_unrolled.py``), each keeping its share of the loop's buffers
(``lstm_step_caches``) in case it must run its own backward with the per-step kernel.

Each kernel runs one thread per (b, j) element of the (B, H) state. Gate arrays are
(B, 4H) or (B, 3H), stacked as ``gate_layout.py`` says, and are ``raw`` parameters indexed
by the logical C-order position ``b * kH + gate * H + j`` (CuPy turns that into an address
with the array's strides, so views work). The formulas are those of the classes in
``minigrad/ops/rnn_cells.py`` (their docstrings derive them); σ(a) is computed as
½ tanh(a/2) + ½, as there, so it never overflows. The LSTM's gate equations are written
once below (``_lstm_gate_values``, ``_LSTM_UPDATE``, ``_lstm_gate_grads``) and pasted into
both its per-step and its whole-layer kernels.

The kernel bodies are plain C expressions over a type ``T``; ``tests/test_gpu_kernels.py``
compiles these very strings with the host C compiler and compares them with the NumPy
path, so the arithmetic is checked on machines without a GPU. Only the CuPy launch itself
(``cupy.ElementwiseKernel``) needs one.
"""
from __future__ import annotations

import ctypes

from .. import backend
from .gate_layout import LSTM_GATES, LSTM_SIGMOID_GATES


def on_gpu(array) -> bool:
    """True when ``array`` lives on a CUDA GPU: there the kernels here replace the array ops."""
    return backend.CUPY_IMPORTED and isinstance(array, backend.cupy.ndarray)


class KernelSpec:
    """An elementwise kernel's source: ``ElementwiseKernel(in_params, out_params, body, name)``."""

    def __init__(self, name, in_params, out_params, body):
        self.name, self.in_params, self.out_params, self.body = name, in_params, out_params, body
        self._compiled = None

    def compiled(self):
        """The ``cupy.ElementwiseKernel`` (built once, compiled by CuPy on first launch)."""
        if self._compiled is None:
            self._compiled = backend.cupy.ElementwiseKernel(
                self.in_params, self.out_params, self.body, self.name)
        return self._compiled


# -- the LSTM's gate equations, in C, written once -----------------------------------------
# Every LSTM kernel names gate k of its row ``row + k * H`` and its value ``<gate>g``
# (ig, fg, gg, og).
_SIGMOID = "(T)0.5 * tanh((T)0.5 * ({a})) + (T)0.5"
_LSTM_AT = {name: f"row + {k} * H" for k, name in enumerate(LSTM_GATES)}


def _lstm_gate_values(hw):
    """C lines: the gates i, f, g, o = σ, σ, tanh, σ of the pre-activations xw + ``hw``,
    kept as ``ig, fg, gg, og`` and stored into ``gates`` (backward reads them there)."""
    values, stores = [], []
    for name, at in _LSTM_AT.items():
        pre = f"xw[{at}] + {hw}[{at}]"
        value = _SIGMOID.format(a=pre) if name in LSTM_SIGMOID_GATES else f"tanh({pre})"
        values.append(f"const T {name}g = {value};")
        stores.append(f"gates[{at}] = {name}g;")
    return "\n    ".join(values + stores)


def _lstm_saved_gates():
    """C line: ``ig, fg, gg, og`` read back from ``gates`` (backward)."""
    return "const T " + ", ".join(f"{name}g = gates[{at}]" for name, at in _LSTM_AT.items()) + ";"


# c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
_LSTM_UPDATE = """const T c_new = fg * {c} + ig * gg;
    const T tc_new = tanh(c_new);
    const T h_new = og * tc_new;"""


def _lstm_gate_grads(gh, gc, c, tc):
    """C lines: ``dcv`` = dL/dc (the gradient ``gc`` arriving along c plus ``gh`` through
    h = o tanh c) and the four gate pre-activation gradients into ``da``::

        dc = gc + gh ⊙ o ⊙ (1 − tanh²c'),  da = [dc g i(1−i), dc c f(1−f), dc i (1−g²), gh tanh c' o(1−o)]
    """
    grads = {"i": "dcv * gg * ig * ((T)1 - ig)", "f": f"dcv * {c} * fg * ((T)1 - fg)",
             "g": "dcv * ig * ((T)1 - gg * gg)", "o": f"{gh} * {tc} * og * ((T)1 - og)"}
    lines = [f"const T dcv = {gc} + {gh} * og * ((T)1 - {tc} * {tc});"]
    lines += [f"da[{_LSTM_AT[name]}] = {grads[name]};" for name in LSTM_GATES]
    return "\n    ".join(lines)


LSTM_FORWARD = KernelSpec(
    "minigrad_lstm_forward",
    "raw T xw, raw T hw, T c, int32 H",
    "raw T gates, T h_next, T c_next, T tanh_c",
    f"""
    const ptrdiff_t b = i / H, j = i % H, row = b * 4 * H + j;
    {_lstm_gate_values("hw")}
    {_LSTM_UPDATE.format(c="c")}
    c_next = c_new;
    tanh_c = tc_new;
    h_next = h_new;
    """)

LSTM_BACKWARD = KernelSpec(
    "minigrad_lstm_backward",
    "raw T gates, T c, T tanh_c, T gh, T gc, int32 H",
    "raw T da, T dc_prev",
    f"""
    const ptrdiff_t b = i / H, j = i % H, row = b * 4 * H + j;
    {_lstm_saved_gates()}
    {_lstm_gate_grads(gh="gh", gc="gc", c="c", tc="tanh_c")}
    dc_prev = dcv * fg;
    """)

GRU_FORWARD = KernelSpec(
    "minigrad_gru_forward",
    "raw T xw, raw T hw, T h, int32 H",
    "raw T rz, T n, T h_next",
    f"""
    const ptrdiff_t b = i / H, j = i % H, row = b * 3 * H + j, rz_row = b * 2 * H + j;
    const T r = {_SIGMOID.format(a="xw[row] + hw[row]")};
    const T z = {_SIGMOID.format(a="xw[row + H] + hw[row + H]")};
    rz[rz_row] = r;
    rz[rz_row + H] = z;
    n = tanh(xw[row + 2 * H] + r * hw[row + 2 * H]);
    h_next = n + z * (h - n);
    """)

GRU_BACKWARD = KernelSpec(
    "minigrad_gru_backward",
    "raw T rz, T n, T hw_n, T h, T gh, int32 H",
    "raw T dxw, raw T dhw, T dh",
    """
    const ptrdiff_t b = i / H, j = i % H, row = b * 3 * H + j, rz_row = b * 2 * H + j;
    const T r = rz[rz_row], z = rz[rz_row + H];
    const T dn = gh * ((T)1 - z) * ((T)1 - n * n);
    const T dr = dn * hw_n * r * ((T)1 - r);
    const T dz = gh * (h - n) * z * ((T)1 - z);
    dxw[row] = dr;
    dxw[row + H] = dz;
    dxw[row + 2 * H] = dn;
    dhw[row] = dr;
    dhw[row + H] = dz;
    dhw[row + 2 * H] = dn * r;
    dh = gh * z;
    """)

# -- a whole LSTM layer (graph="layer") ---------------------------------------------------
# One thread per (b, j) of step t. Every array is raw and whole, indexed with the step's
# offsets, so a step costs one matmul and one launch (no views, no allocations):
#   xw, gates, da: (T, B, 4H);  tanh_c, g_hs, g_cs: (T, B, H) in time order;
#   hs, cs: (T+1, B, H), the states with the initial one at row p of the first step run.
# Step t reads its previous state at row p and writes its new one at row q.
LSTM_SEQUENCE_FORWARD = KernelSpec(
    "minigrad_lstm_sequence_forward",
    "raw T xw, int32 H, int32 B, int32 t, int32 p, int32 q",
    "raw T gates, raw T cs, raw T hs, raw T tanh_c",
    f"""
    const ptrdiff_t j = i % H, b = i / H, BH = (ptrdiff_t)B * H;
    const ptrdiff_t row = ((ptrdiff_t)t * B + b) * 4 * H + j;
    {_lstm_gate_values("gates")}
    {_LSTM_UPDATE.format(c="cs[p * BH + i]")}
    cs[q * BH + i] = c_new;
    tanh_c[t * BH + i] = tc_new;
    hs[q * BH + i] = h_new;
    """)

LSTM_SEQUENCE_BACKWARD = KernelSpec(
    "minigrad_lstm_sequence_backward",
    "raw T gates, raw T cs, raw T tanh_c, raw T g_hs, raw T g_cs, "
    "int32 H, int32 B, int32 t, int32 p, int32 use_gh, int32 use_gc",
    "raw T dh, raw T dc, raw T da",
    f"""
    const ptrdiff_t j = i % H, b = i / H, BH = (ptrdiff_t)B * H, here = t * BH + i;
    const ptrdiff_t row = ((ptrdiff_t)t * B + b) * 4 * H + j;
    {_lstm_saved_gates()}
    const T tc = tanh_c[here];
    const T gh = dh[i] + (use_gh ? g_hs[here] : (T)0);
    const T gc = dc[i] + (use_gc ? g_cs[here] : (T)0);
    {_lstm_gate_grads(gh="gh", gc="gc", c="cs[p * BH + i]", tc="tc")}
    dc[i] = dcv * fg;
    """)

KERNELS = (LSTM_FORWARD, LSTM_BACKWARD, GRU_FORWARD, GRU_BACKWARD,
           LSTM_SEQUENCE_FORWARD, LSTM_SEQUENCE_BACKWARD)


def lstm_forward(xw, hw, c, out=None):
    """(h', c', (gates, c, tanh c')) for pre-activations xw, hw (B, 4H) and state c (B, H);
    h' and c' are written into ``out = (h_out, c_out)`` when given; the third item is the
    cache ``LSTMCellFunction.cell_backward`` reads."""
    xp = backend.cupy
    H = c.shape[1]
    gates = xp.empty(hw.shape, dtype=hw.dtype)
    tanh_c = xp.empty(c.shape, dtype=c.dtype)
    if out is None:
        h_next, c_next = xp.empty(c.shape, dtype=c.dtype), xp.empty(c.shape, dtype=c.dtype)
    else:
        h_next, c_next = out
    LSTM_FORWARD.compiled()(xw, hw, c, H, gates, h_next, c_next, tanh_c)
    return h_next, c_next, (gates, c, tanh_c)


def lstm_backward(gates, c, tanh_c, gh_next, gc_next, out=None):
    """(d pre-activation (B, 4H), written into ``out`` when given, and d c_prev (B, H));
    a missing incoming gradient is zero, one of another dtype is cast to the cell's (the
    kernel is compiled for one)."""
    xp = backend.cupy
    gh_next = xp.zeros_like(c) if gh_next is None else gh_next.astype(c.dtype, copy=False)
    gc_next = xp.zeros_like(c) if gc_next is None else gc_next.astype(c.dtype, copy=False)
    da = xp.empty(gates.shape, dtype=gates.dtype) if out is None else out
    dc_prev = xp.empty(c.shape, dtype=c.dtype)
    LSTM_BACKWARD.compiled()(gates, c, tanh_c, gh_next, gc_next, c.shape[1], da, dc_prev)
    return da, dc_prev


def gru_forward(xw, hw, h, out=None):
    """(h', (rz, n, hw_n)) for pre-activations xw, hw (B, 3H) and state h (B, H); h' is
    written into ``out`` when given; the cache is what ``GRUCellFunction.cell_backward``
    reads."""
    xp = backend.cupy
    H = h.shape[1]
    rz = xp.empty((h.shape[0], 2 * H), dtype=h.dtype)
    n = xp.empty(h.shape, dtype=h.dtype)
    h_next = xp.empty(h.shape, dtype=h.dtype) if out is None else out
    GRU_FORWARD.compiled()(xw, hw, h, H, rz, n, h_next)
    return h_next, (rz, n, hw[:, 2 * H:])


def gru_backward(rz, n, hw_n, h, gh_next, out=None):
    """(d xw (B, 3H), d hw (B, 3H) written into ``out`` when given, d h through the update
    gate (B, H)); ``gh_next`` of another dtype is cast to the cell's."""
    xp = backend.cupy
    B, H = n.shape
    gh_next = gh_next.astype(n.dtype, copy=False)
    dxw = xp.empty((B, 3 * H), dtype=n.dtype)
    dhw = xp.empty((B, 3 * H), dtype=n.dtype) if out is None else out
    dh = xp.empty(n.shape, dtype=n.dtype)
    GRU_BACKWARD.compiled()(rz, n, hw_n, h, gh_next, H, dxw, dhw, dh)
    return dxw, dhw, dh


class _Gemm:
    """``out = a @ b`` or ``a @ bᵀ`` on rows of whole C-contiguous arrays, by one direct
    cuBLAS call (CuPy's ``matmul`` spends ~25 µs of Python per call, as much as the GPU
    work of a step at B=64, H=512). Row-major C = A·op(B) is column-major Cᵀ = op(B)ᵀ·Aᵀ,
    so B goes first. Arrays are given as (array, row offset in elements). Where CuPy's
    cuBLAS bindings are missing, ``xp.matmul`` on views does the same."""

    _OP_N, _OP_T = 0, 1

    def __init__(self, xp, dtype):
        self.xp = xp
        cublas = getattr(getattr(xp, "cuda", None), "cublas", None)
        self.routine = None if cublas is None else {4: "sgemm", 8: "dgemm"}.get(dtype.itemsize)
        if self.routine is not None and dtype.kind == "f":
            self.call = getattr(cublas, self.routine)
            self.handle = xp.cuda.device.get_cublas_handle()
            scalar = ctypes.c_float if dtype.itemsize == 4 else ctypes.c_double
            self._one, self._zero = scalar(1.0), scalar(0.0)   # host pointers, kept alive here
            self.itemsize = dtype.itemsize
        else:
            self.routine = None

    def __call__(self, out, out_shape, a, b, transpose_b):
        """out[rows] (M, N) = a[rows] (M, K) @ (b (N, K)ᵀ if transpose_b else b (K, N))."""
        (out_array, out_at), (a_array, a_at) = out, a
        M, N = out_shape
        K = b.shape[1] if transpose_b else b.shape[0]
        if self.routine is None:
            size = M * N
            target = out_array.reshape(-1)[out_at:out_at + size].reshape(M, N)
            left = a_array.reshape(-1)[a_at:a_at + M * K].reshape(M, K)
            self.xp.matmul(left, b.T if transpose_b else b, out=target)
            return
        self.call(self.handle, self._OP_T if transpose_b else self._OP_N, self._OP_N,
                  N, M, K, ctypes.addressof(self._one), device_pointer(b), K if transpose_b else N,
                  device_pointer(a_array) + a_at * self.itemsize, K, ctypes.addressof(self._zero),
                  device_pointer(out_array) + out_at * self.itemsize, N)


def device_pointer(array):
    """The device address of a CuPy array's first element (CuPy's ``ndarray.data`` is its
    memory pointer; a minigrad Tensor's backend array is ``tensor.array``, not this)."""
    return array.data.ptr


def _state_rows(t, reverse):
    """(p, q): the rows of the (T+1, B, H) state arrays step t reads and writes."""
    return (t + 1, t) if reverse else (t, t + 1)


def lstm_sequence_forward(xw, w_hh, h0, c0, reverse):
    """All T steps of one LSTM layer: (hs, cs) (T, B, H) in time order, and the cache that
    ``lstm_sequence_backward`` reads. Per step: gates_t = h_{t-1} W_hhᵀ (one matmul into
    place), then one kernel adds xw_t and does the update."""
    xp = backend.cupy
    T, B, G = xw.shape
    H = G // 4
    hs = xp.empty((T + 1, B, H), dtype=xw.dtype)
    cs = xp.empty((T + 1, B, H), dtype=xw.dtype)
    first = T if reverse else 0
    hs[first], cs[first] = h0, c0
    gates = xp.empty((T, B, G), dtype=xw.dtype)
    tanh_c = xp.empty((T, B, H), dtype=xw.dtype)
    w_hh = xp.ascontiguousarray(w_hh)
    gemm, kernel = _Gemm(xp, xw.dtype), LSTM_SEQUENCE_FORWARD.compiled()
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        p, q = _state_rows(t, reverse)
        gemm((gates, t * B * G), (B, G), (hs, p * B * H), w_hh, transpose_b=True)
        kernel(xw, H, B, t, p, q, gates, cs, hs, tanh_c, size=B * H)
    outputs = slice(0, T) if reverse else slice(1, T + 1)
    return hs[outputs], cs[outputs], (gates, cs, hs, tanh_c)


def lstm_step_caches(cache, reverse):
    """The caches a one-node LSTM step keeps on a GPU, for every step of a
    ``lstm_sequence_forward`` run, in time order (``graph="steps"`` hands them to its step
    nodes, so a step can run its own backward when something watches it)."""
    return [_StepCache(cache, t, _state_rows(t, reverse)[0]) for t in range(cache[0].shape[0])]


class _StepCache:
    """Step t's share of a sequence's buffers, unpacked as the cache
    ``LSTMCellFunction.cell_backward`` reads: ``gates, c, tanh_c`` = the step's gate
    values, the cell state it started from (row p) and tanh of the one it made. The three
    views are made only when unpacked: each is a new CuPy array object, 3T of them a
    sequence, and the chain run as one (the usual backward) never asks for them."""

    __slots__ = ("buffers", "t", "p")

    def __init__(self, buffers, t, p):
        self.buffers, self.t, self.p = buffers, t, p

    def __iter__(self):
        gates, cs, _, tanh_c = self.buffers
        return iter((gates[self.t], cs[self.p], tanh_c[self.t]))


def lstm_sequence_backward(cache, g_hs, g_cs, w_hh, reverse):
    """(d gates (T, B, 4H), the states h_{t-1} (T, B, H) in time order, dL/dh_0, dL/dc_0)
    for the incoming gradients of the outputs (either may be None)."""
    xp = backend.cupy
    gates, cs, hs, tanh_c = cache
    T, B, G = gates.shape
    H = G // 4
    dh = xp.zeros((B, H), dtype=gates.dtype)
    dc = xp.zeros((B, H), dtype=gates.dtype)
    da = xp.empty_like(gates)
    use_gh, use_gc = int(g_hs is not None), int(g_cs is not None)
    g_hs, g_cs = (dh if g_hs is None else g_hs), (dc if g_cs is None else g_cs)
    w_hh = xp.ascontiguousarray(w_hh)
    gemm, kernel = _Gemm(xp, gates.dtype), LSTM_SEQUENCE_BACKWARD.compiled()
    for t in (range(T) if reverse else range(T - 1, -1, -1)):
        p, _ = _state_rows(t, reverse)
        kernel(gates, cs, tanh_c, g_hs, g_cs, H, B, t, p, use_gh, use_gc, dh, dc, da, size=B * H)
        gemm((dh, 0), (B, H), (da, t * B * G), w_hh, transpose_b=False)
    previous = hs[1:] if reverse else hs[:T]
    return da, previous, dh, dc
