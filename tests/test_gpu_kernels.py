"""The LSTM/GRU GPU kernels of one-node steps and layers, checked without a GPU.

``minigrad/ops/rnn_kernels.py`` writes each kernel body as C over a type ``T``. Here those
very strings are compiled with the host C compiler (T = double) into a loop that mimics
``cupy.ElementwiseKernel``: one iteration per element ``i`` of the non-raw arrays, non-raw
parameters bound to element ``i``, raw parameters indexed by logical C-order position.
A stand-in for ``cupy`` that launches these loops then drives the real wrappers and the
hooks in ``minigrad/ops/rnn_cells.py``, so the kernels' arithmetic, their argument order
and the wiring are compared with the NumPy path and with finite differences.

What this cannot check: CuPy's own compilation (nvcc/NVRTC) of the bodies, float32
``tanh`` overloads on the device, and launch configuration. ``tests/test_gpu.py`` does,
on a machine with a GPU.
"""
import ctypes
import re
import shutil
import subprocess
import types

import numpy as np
import pytest

import minigrad
import nn
from minigrad import backend
from minigrad.ops import rnn_kernels
from minigrad.ops.rnn_cells import GRUCellFunction, LSTMCellFunction

CC = shutil.which("cc") or shutil.which("gcc")
pytestmark = pytest.mark.skipif(CC is None, reason="a C compiler is required to check the kernel bodies")


def parse_params(text, output):
    params = []
    for part in text.split(","):
        words = part.split()
        raw = words[0] == "raw"
        kind, name = words[-2], words[-1]
        params.append(types.SimpleNamespace(raw=raw, kind=kind, name=name, output=output))
    return params


class HostKernel:
    """``cupy.ElementwiseKernel``'s contract, run on the CPU from the same C body."""

    _cache = {}

    def __init__(self, in_params, out_params, body, name, tmp_dir, launches):
        self.name, self.launches = name, launches
        self.params = parse_params(in_params, False) + parse_params(out_params, True)
        key = (in_params, out_params, body)
        if key not in self._cache:
            self._cache[key] = self._compile(body, name, tmp_dir)
        self.function = self._cache[key]

    def _compile(self, body, name, tmp_dir):
        args, before, after = [], [], []
        for p in self.params:
            if p.kind == "int32":
                args.append(f"int {p.name}")
            elif p.raw:
                args.append(f"T *{p.name}")
            else:
                args.append(f"T *{p.name}_p")
                before.append(f"T {p.name}" + ("" if p.output else f" = {p.name}_p[i]") + ";")
                if p.output:
                    after.append(f"{p.name}_p[i] = {p.name};")
        source = ("#include <math.h>\n#include <stddef.h>\ntypedef double T;\n"
                  f"void run(ptrdiff_t n, {', '.join(args)}) {{\n"
                  "  for (ptrdiff_t i = 0; i < n; ++i) {\n"
                  f"    {' '.join(before)}\n    {{ {body} }}\n    {' '.join(after)}\n  }}\n}}\n")
        c_file, library = tmp_dir / f"{name}.c", tmp_dir / f"{name}.so"
        c_file.write_text(source)
        subprocess.run([CC, "-O1", "-shared", "-fPIC", "-Wall", "-Werror", "-o", str(library),
                        str(c_file), "-lm"], check=True, capture_output=True, text=True)
        function = ctypes.CDLL(str(library)).run
        function.restype = None
        return function

    def __call__(self, *args, size=None):
        assert len(args) == len(self.params), "argument count differs from the kernel's parameters"
        if all(p.raw or p.kind == "int32" for p in self.params):
            assert size is not None, "a kernel whose arrays are all raw needs size="
        call = []
        for p, a in zip(self.params, args):
            if p.kind == "int32":
                call.append(ctypes.c_int(int(a)))
                continue
            assert a.dtype == np.float64
            if not p.raw:
                size = a.size if size is None else size
                assert a.size == size, f"{p.name}: non-raw arrays must have one shape"
            if p.output:
                assert a.flags.c_contiguous, f"output {p.name} must be contiguous"
            else:
                a = np.ascontiguousarray(a)  # CuPy indexes raw arrays logically, views included
            call.append(ctypes.c_void_p(a.ctypes.data))
            self._keep = getattr(self, "_keep", []) + [a]
        self.function(ctypes.c_ssize_t(size), *call)
        self.launches.append(self.name)


@pytest.fixture
def host_cupy(monkeypatch, tmp_path):
    """``backend.cupy`` replaced by NumPy plus host-compiled kernels; kernels forced on."""
    launches = []
    fake = types.SimpleNamespace(
        ElementwiseKernel=lambda i, o, body, name: HostKernel(i, o, body, name, tmp_path, launches),
        empty=np.empty, empty_like=np.empty_like, zeros=np.zeros, zeros_like=np.zeros_like,
        matmul=np.matmul, ascontiguousarray=np.ascontiguousarray, launches=launches)
    monkeypatch.setattr(backend, "cupy", fake)
    for spec in rnn_kernels.KERNELS:
        monkeypatch.setattr(spec, "_compiled", None)
    monkeypatch.setattr(rnn_kernels, "on_gpu", lambda array: True)
    yield fake
    assert launches, "no kernel was launched: are the hooks in minigrad/ops/rnn_cells.py gone?"


def _column_major(address, rows, cols, ld):
    """The (rows, cols) float64 matrix stored column-major at ``address``, leading dimension
    ``ld`` (BLAS's layout), as a NumPy view of that memory."""
    size = ld * (cols - 1) + rows
    base = np.ctypeslib.as_array((ctypes.c_double * size).from_address(address))
    return np.lib.stride_tricks.as_strided(base, (rows, cols), (8, 8 * ld))


@pytest.fixture
def host_cublas(host_cupy, monkeypatch):
    """``host_cupy`` plus a stand-in for ``cupy.cuda.cublas``: ``dgemm`` with cuBLAS's
    column-major contract, on host memory, so the loop's direct cuBLAS calls (operand order,
    leading dimensions, row offsets in bytes) are computed and checked. Returns the calls."""
    calls = []

    def dgemm(handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        op_a = _column_major(a, *((m, k) if transa == 0 else (k, m)), lda)
        op_b = _column_major(b, *((k, n) if transb == 0 else (n, k)), ldb)
        out = _column_major(c, m, n, ldc)
        product = (op_a if transa == 0 else op_a.T) @ (op_b if transb == 0 else op_b.T)
        beta = ctypes.c_double.from_address(beta).value
        out[...] = ctypes.c_double.from_address(alpha).value * product + (beta * out if beta else 0)
        calls.append((m, n, k))

    host_cupy.cuda = types.SimpleNamespace(
        cublas=types.SimpleNamespace(dgemm=dgemm),
        device=types.SimpleNamespace(get_cublas_handle=lambda: 0))

    def host_pointer(array):
        assert isinstance(array, np.ndarray) and array.flags.c_contiguous
        return array.ctypes.data
    monkeypatch.setattr(rnn_kernels, "device_pointer", host_pointer)
    return calls


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_kernel_sources_declare_what_the_wrappers_pass():
    for spec in rnn_kernels.KERNELS:
        names = [p.name for p in parse_params(spec.in_params, False) + parse_params(spec.out_params, True)]
        assert len(set(names)) == len(names)
        for p in names:
            assert re.search(rf"\b{p}\b", spec.body) or p == "H", f"{spec.name}: {p} unused"


def test_lstm_kernels_match_the_numpy_path(host_cupy):
    B, H = 3, 4
    xw, hw, h, c = rand(B, 4 * H, seed=1), rand(B, 4 * H, seed=2), rand(B, H, seed=3), rand(B, H, seed=4)
    reference = LSTMCellFunction()
    with_kernels = LSTMCellFunction()
    ref_h, ref_c = _numpy_path(reference, xw, hw, h, c)
    got_h, got_c = with_kernels.cell_forward(xw.copy(), hw.copy(), h, c)
    np.testing.assert_allclose(got_h, ref_h, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(got_c, ref_c, rtol=1e-13, atol=1e-14)
    for a, b in zip(with_kernels.cache, reference.cache):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
    gh, gc = rand(B, H, seed=5), rand(B, H, seed=6)
    for g_h, g_c in ((gh, gc), (gh, None), (None, gc)):
        want = _numpy_backward(reference, h, g_h, g_c)
        got = with_kernels.cell_backward(h, g_h, g_c)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(got[3], want[3], rtol=1e-13, atol=1e-14)
    assert host_cupy.launches.count("minigrad_lstm_backward") == 3, "backward must use the kernel"


def test_gru_kernels_match_the_numpy_path(host_cupy):
    B, H = 2, 5
    xw, hw, h = rand(B, 3 * H, seed=1), rand(B, 3 * H, seed=2), rand(B, H, seed=3)
    reference, with_kernels = GRUCellFunction(), GRUCellFunction()
    ref_h = _numpy_path(reference, xw, hw, h, None)
    got_h = with_kernels.cell_forward(xw.copy(), hw.copy(), h, None)
    np.testing.assert_allclose(got_h, ref_h, rtol=1e-13, atol=1e-14)
    gh = rand(B, H, seed=4)
    want = _numpy_backward(reference, h, gh)
    got = with_kernels.cell_backward(h, gh)
    for k in range(3):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-13, atol=1e-14)
    assert host_cupy.launches.count("minigrad_gru_backward") == 1, "backward must use the kernel"


def _numpy_path(fn, xw, hw, h, c):
    """The array-op path of a cell (kernels off), on copies."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rnn_kernels, "on_gpu", lambda array: False)
        if c is None:
            return fn.cell_forward(xw.copy(), hw.copy(), h, None)
        return fn.cell_forward(xw.copy(), hw.copy(), h, c)


def _numpy_backward(fn, h, *grads):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rnn_kernels, "on_gpu", lambda array: False)
        return fn.cell_backward(h, *grads)


@pytest.mark.parametrize("graph", ["steps", "layer"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_layers_gradcheck_through_the_kernels(host_cupy, kind, graph):
    minigrad.manual_seed(0)
    layer = getattr(nn, kind)(2, 3, batch_first=True, graph=graph).double()
    x = minigrad.tensor(rand(2, 3, 2, seed=7), requires_grad=True)
    assert minigrad.gradcheck(lambda x, *ps: layer(x)[0], [x] + list(layer.parameters()))


@pytest.mark.parametrize("mode", ["steps", "layer"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_layer_with_kernels_matches_gate_level_layer(host_cupy, kind, mode):
    minigrad.manual_seed(0)
    node_level = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, graph=mode).double()
    minigrad.manual_seed(0)
    gate_level = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, graph="gates").double()
    x = rand(5, 2, 3, seed=8)
    outs = []
    for layer in (node_level, gate_level):
        out, _ = layer(minigrad.tensor(x))
        (out * out).sum().backward()
        outs.append((out, [p.grad for p in layer.parameters()]))
    np.testing.assert_allclose(outs[0][0].numpy(), outs[1][0].numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(outs[0][1], outs[1][1]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    if kind == "LSTM":                # both recordings run the LSTM's whole-sequence kernels
        assert {"minigrad_lstm_sequence_forward", "minigrad_lstm_sequence_backward"} <= set(host_cupy.launches)


def test_lstm_steps_and_layer_run_the_same_kernels_and_give_the_same_bits(host_cupy):
    """graph="steps" on a GPU records its step nodes around the very loop graph="layer" runs:
    one cuBLAS product and one launch per step, no per-step kernels, and the same bits."""
    results = []
    for graph in ("steps", "layer"):
        minigrad.manual_seed(0)
        model = nn.LSTM(3, 4, num_layers=2, bidirectional=True, graph=graph).double()
        x = minigrad.tensor(rand(6, 2, 3, seed=12), requires_grad=True)
        del host_cupy.launches[:]
        out, (h_n, c_n) = model(x)
        ((out * out).sum() + (c_n * h_n).sum()).backward()
        assert "minigrad_lstm_forward" not in host_cupy.launches
        assert "minigrad_lstm_backward" not in host_cupy.launches
        assert host_cupy.launches.count("minigrad_lstm_sequence_forward") == 4 * 6
        results.append([out.numpy()] + [t.grad.numpy() for t in [x, *model.parameters()]])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("watch", ["edge_hook", "retain_grad"])
def test_lstm_steps_on_their_own_read_the_sequence_kernels_caches(host_cupy, watch):
    """When something watches single steps, each step node runs its own backward (the
    per-step kernel) from its share of the whole-sequence buffers: the gradients are those
    of the chain run as one."""
    from minigrad.autograd import run_backward
    grads = []
    for one_by_one in (False, True):
        minigrad.manual_seed(0)
        model = nn.LSTM(3, 4, bidirectional=True).double()
        x = minigrad.tensor(rand(5, 2, 3, seed=13), requires_grad=True)
        out, _ = model(x)
        loss = (out * minigrad.tensor(rand(5, 2, 8, seed=14))).sum()
        del host_cupy.launches[:]
        if one_by_one and watch == "retain_grad":
            model.hidden_states[2].retain_grad()
        run_backward([loss], [None], edge_hook=(lambda *args: None)
                     if one_by_one and watch == "edge_hook" else None)
        per_step = host_cupy.launches.count("minigrad_lstm_backward")
        if not one_by_one:
            assert per_step == 0
        elif watch == "edge_hook":                  # every step of both directions
            assert per_step == 2 * 5 and "minigrad_lstm_sequence_backward" not in host_cupy.launches
        else:
            assert per_step > 0
        grads.append([t.grad.numpy() for t in [x, *model.parameters()]])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_sequence_kernels_gradcheck_with_initial_state_and_final_states(host_cupy, reverse):
    """Gradients reaching the layer through h_n and c_n as well as the output, and going out
    to h_0 and c_0, in both directions of time."""
    minigrad.manual_seed(1)
    layer = nn.LSTM(2, 3, bidirectional=reverse, graph="layer").double()
    D = 2 if reverse else 1
    x = minigrad.tensor(rand(4, 2, 2, seed=9), requires_grad=True)
    h0 = minigrad.tensor(rand(D, 2, 3, seed=10), requires_grad=True)
    c0 = minigrad.tensor(rand(D, 2, 3, seed=11), requires_grad=True)

    def fn(x, h0, c0, *params):
        output, (h_n, c_n) = layer(x, (h0, c0))
        return output, h_n, c_n

    assert minigrad.gradcheck(fn, [x, h0, c0] + list(layer.parameters()))
    assert "minigrad_lstm_sequence_backward" in host_cupy.launches


@pytest.mark.parametrize("graph, watch", [("steps", None), ("layer", None), ("steps", "edge_hook")])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_a_gradient_of_another_dtype_reaches_the_kernels_as_the_layers(host_cupy, kind, graph,
                                                                       watch):
    """A kernel is compiled for one dtype, and the engine casts gradients only at the leaves:
    a float32 gradient reaching a float64 layer (a float32 tensor met after it) goes into the
    kernels as float64, whole sequence or step by step, with the gradients it would have
    given as float64 from the start."""
    from minigrad.autograd import run_backward
    g = rand(5, 2, 8, seed=17).astype(np.float32)
    grads = []
    for dtype in (np.float32, np.float64):
        minigrad.manual_seed(0)
        model = getattr(nn, kind)(3, 4, bidirectional=True, graph=graph).double()
        x = minigrad.tensor(rand(5, 2, 3, seed=16), requires_grad=True)
        out, _ = model(x)
        run_backward([out], [minigrad.tensor(g.astype(dtype))],
                     edge_hook=(lambda *args: None) if watch else None)
        grads.append([t.grad.numpy() for t in [x, *model.parameters()]])
    for a, b in zip(*grads):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b)


def bidirectional_batch_first_run(kind, graph, watch, device="cpu"):
    """A two-layer bidirectional batch-first LSTM or GRU run from a given initial state, with
    the final states in the loss and, with ``watch``, every step running its own backward (an
    edge_hook sees each edge): [output, then the gradients of x, h_0 (, c_0) and of every
    parameter] as NumPy arrays. Here with the kernels on and off; tests/test_gpu.py on the
    CPU and on a GPU."""
    from minigrad.autograd import run_backward
    minigrad.manual_seed(0)
    layer = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=True,
                              graph=graph).double().to(device)

    def given(*shape, seed):
        return minigrad.tensor(rand(*shape, seed=seed), device=device)
    x, h0, c0 = (given(*s, seed=k).requires_grad_() for s, k in
                 (((2, 5, 3), 21), ((4, 2, 4), 22), ((4, 2, 4), 23)))
    out, final = layer(x, (h0, c0) if kind == "LSTM" else h0)
    finals = final if kind == "LSTM" else (final,)
    loss = (out * given(2, 5, 8, seed=24)).sum()
    for k, state in enumerate(finals):
        loss = loss + (state * given(4, 2, 4, seed=25 + k)).sum()
    run_backward([loss], [None], edge_hook=(lambda *args: None) if watch else None)
    starts = [x, h0, c0] if kind == "LSTM" else [x, h0]
    return [out.numpy()] + [t.grad.numpy() for t in starts + list(layer.parameters())]


@pytest.mark.parametrize("graph, watch", [("steps", False), ("layer", False), ("steps", True)])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_batch_first_bidirectional_layers_from_a_given_state_match_the_numpy_path(
        host_cupy, kind, graph, watch):
    """Batch-first inputs, both directions, a given initial state, the final states in the
    loss and, with ``watch``, every step running its own backward: the kernels' gradients
    are the NumPy path's (tests/test_gpu.py runs the same on a GPU)."""
    with_kernels = bidirectional_batch_first_run(kind, graph, watch)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rnn_kernels, "on_gpu", lambda array: False)
        without = bidirectional_batch_first_run(kind, graph, watch)
    for a, b in zip(with_kernels, without):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_kernels_apply_only_to_gpu_arrays():
    """``on_gpu`` is the switch between the kernels and the NumPy path: host arrays never
    take the kernel path (without CuPy nothing is a ``cupy.ndarray``)."""
    assert not rnn_kernels.on_gpu(np.zeros((2, 3)))
    assert not rnn_kernels.on_gpu(minigrad.zeros(2, 3).array)


def test_the_lstm_gate_equations_are_written_once_for_both_kernel_families():
    """The per-step and the whole-layer LSTM kernels paste the same C lines for the gates,
    the update and the gate gradients (cut as ``gate_layout.LSTM_GATES`` says), so the two
    cannot drift apart."""
    k = rnn_kernels
    assert k._lstm_gate_values("hw") in k.LSTM_FORWARD.body
    assert k._lstm_gate_values("gates") in k.LSTM_SEQUENCE_FORWARD.body
    assert k._LSTM_UPDATE.format(c="c") in k.LSTM_FORWARD.body
    assert k._LSTM_UPDATE.format(c="cs[p * BH + i]") in k.LSTM_SEQUENCE_FORWARD.body
    for body in (k.LSTM_BACKWARD.body, k.LSTM_SEQUENCE_BACKWARD.body):
        assert k._lstm_saved_gates() in body
    assert k._lstm_gate_grads("gh", "gc", "c", "tanh_c") in k.LSTM_BACKWARD.body
    assert k._lstm_gate_grads("gh", "gc", "cs[p * BH + i]", "tc") in k.LSTM_SEQUENCE_BACKWARD.body


@pytest.mark.parametrize("graph", ["steps", "layer"])
def test_the_loops_direct_cublas_calls_compute_the_cpu_results(host_cublas, graph):
    """On a GPU the LSTM loop multiplies by one cuBLAS call per step on row offsets of its
    buffers (``rnn_kernels._Gemm``), forward and backward, both directions of time."""
    results = []
    for cublas in (True, False):
        minigrad.manual_seed(0)
        model = nn.LSTM(3, 4, bidirectional=True, graph=graph).double()
        x = minigrad.tensor(rand(5, 2, 3, seed=15), requires_grad=True)
        with pytest.MonkeyPatch.context() as patch:
            if not cublas:                                  # the NumPy path: kernels off
                patch.setattr(rnn_kernels, "on_gpu", lambda array: False)
            out, (h_n, c_n) = model(x)
            ((out * out).sum() + (h_n * c_n).sum()).backward()
        results.append([out.numpy()] + [t.grad.numpy() for t in [x, *model.parameters()]])
    assert len(host_cublas) == 2 * 2 * 5       # per direction, T products forward and T back
    assert {(4 * 4, 2, 4), (4, 2, 4 * 4)} == set(host_cublas)   # (N, M, K): h W_hhᵀ, da W_hh
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_the_direct_cublas_call_reads_cupys_device_pointer():
    """CuPy's ndarray keeps its device address in ``.data.ptr`` (``.array`` is minigrad's
    Tensor attribute, which a CuPy array does not have)."""
    from minigrad.ops.rnn_kernels import device_pointer
    assert device_pointer(types.SimpleNamespace(data=types.SimpleNamespace(ptr=4096))) == 4096
