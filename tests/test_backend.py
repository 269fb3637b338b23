"""``minigrad.backend``: devices, the backend registry, what NumPy and CuPy spell differently,
and the checked stand-in GPU's refusals (the proof that code cannot reach around the backend)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad
from minigrad import backend
from minigrad.function import Function
from minigrad.testing.checked_backend import CheckedArray, CheckedBackend, checked, checked_device

ROOT = os.path.join(os.path.dirname(__file__), "..")


@pytest.fixture
def dev():
    with checked_device() as name:
        yield name


def test_import_without_cupy_neither_fails_nor_warns():
    code = ("import sys; sys.modules['cupy'] = None; sys.modules['cupyx'] = None\n"
            "import minigrad, nn\n"
            "assert minigrad.cuda.is_available() is False and minigrad.cuda.device_count() == 0\n"
            "assert minigrad.backend.CUPY_IMPORTED is False\n"
            "try:\n    minigrad.zeros(2, device='cuda')\nexcept RuntimeError as e:\n"
            "    assert 'CUDA is not available' in str(e)\nelse:\n    raise SystemExit('no error')\n"
            "print('ok')")
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok" and done.stderr == ""


def test_cuda_extra_pulls_cupy():
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    assert any(req.startswith("cupy-cuda12x") for req in extras["cuda"])


@pytest.mark.parametrize("name,expected", [("cpu", ("cpu", 0)), ("cpu:0", ("cpu", 0)),
                                           ("cuda", ("cuda", 0)), ("cuda:3", ("cuda", 3)),
                                           (None, ("cpu", 0))])
def test_parse_device(name, expected):
    assert backend.parse_device(name) == expected


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "cuda:", "cpu:1", "CUDA", "checked"])
def test_bad_device_names_are_refused(name):
    with pytest.raises(ValueError, match="bad device"):
        backend.parse_device(name)


def test_canonical_device_names(dev):
    assert backend.canonical_device("cuda") == "cuda:0"
    assert backend.canonical_device("cpu") == "cpu"
    assert backend.canonical_device(dev) == "checked:0"


@pytest.mark.skipif(minigrad.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_gpu_says_so():
    x = minigrad.ones(2)
    for make in (lambda: x.to("cuda"), lambda: minigrad.zeros(2, device="cuda:0"),
                 lambda: minigrad.tensor([1.0], device="cuda")):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            make()


def test_register_twice_and_unregister_cpu_are_refused(dev):
    with pytest.raises(ValueError, match="already registered"):
        backend.register_backend(CheckedBackend())
    with pytest.raises(ValueError, match="cpu"):
        backend.unregister_backend("cpu")


def test_checked_device_is_gone_after_the_block():
    with checked_device():
        assert backend.parse_device("checked:0") == ("checked", 0)
    with pytest.raises(ValueError, match="bad device"):
        backend.parse_device("checked")


def test_device_index_beyond_count(dev):
    with pytest.raises(RuntimeError, match="only 1 checked device"):
        minigrad.zeros(2, device="checked:1")


@pytest.mark.parametrize("name", ["zeros", "ones", "randn", "rand"])
def test_factories_take_device_and_draw_the_cpu_stream(dev, name):
    make = getattr(minigrad, name)
    minigrad.manual_seed(3)
    cpu = make(2, 3, dtype=minigrad.float64)
    minigrad.manual_seed(3)
    on_dev = make(2, 3, dtype=minigrad.float64, device=dev)
    assert type(on_dev.array) is CheckedArray and on_dev.device == "checked:0"
    np.testing.assert_array_equal(on_dev.numpy(), cpu.numpy())


def test_other_factories_take_device(dev):
    for t in (minigrad.full((2, 2), 1.5, device=dev), minigrad.arange(5, device=dev),
              minigrad.randint(0, 4, (3,), device=dev), minigrad.tensor([[1, 2]], device=dev),
              minigrad.zeros_like(minigrad.ones(2, device=dev))):
        assert t.device == "checked:0"
    assert minigrad.arange(5, device=dev).dtype == minigrad.int64


def test_numpy_and_item_copy_to_the_host(dev):
    x = minigrad.tensor([[1.5, 2.0]], device=dev)
    host = x.numpy()
    assert type(host) is np.ndarray
    host[0, 0] = 9.0  # a copy: the device array is untouched
    assert x.numpy()[0, 0] == 1.5
    assert x[0, 1].item() == 2.0 and type(x.sum().item()) is float
    assert x.tolist() == [[1.5, 2.0]]


@pytest.mark.parametrize("device", ["cpu", "checked"])
def test_scatter_add_accumulates_repeated_indices(dev, device):
    xp = backend.array_module_for(device)
    target = xp.zeros((4,))
    backend.scatter_add(target, xp.asarray(np.array([1, 1, 3])), xp.asarray(np.array([1.0, 2.0, 5.0])))
    np.testing.assert_array_equal(backend.to_host(target), [0.0, 3.0, 0.0, 5.0])
    rows = xp.zeros((3, 2))
    backend.add_rows(rows, xp.asarray(np.array([2, 0, 2])), xp.asarray(np.arange(6.0).reshape(3, 2)))
    np.testing.assert_array_equal(backend.to_host(rows), [[2.0, 3.0], [0.0, 0.0], [4.0, 6.0]])


def test_add_rows_distinct_rows_on_cpu():
    rows = np.zeros((3, 2))
    backend.add_rows(rows, np.array([2, 0]), np.ones((2, 2)))
    np.testing.assert_array_equal(rows, [[1, 1], [0, 0], [1, 1]])


def test_wrap_scalar_keeps_the_device(dev):
    like = checked.zeros(2)
    assert type(backend.wrap_scalar(np.float64(2.0), like)) is CheckedArray
    assert type(backend.wrap_scalar(np.float64(2.0), np.zeros(2))) is np.ndarray


def test_memmap_data_becomes_a_plain_array(tmp_path):
    m = np.memmap(tmp_path / "m.bin", dtype=np.float32, mode="w+", shape=(3,))
    m[:] = [1, 2, 3]
    t = minigrad.tensor(m)
    assert type(t.array) is np.ndarray
    assert (t + minigrad.ones(3)).tolist() == [2.0, 3.0, 4.0]


# -- the checked device refuses what a GPU refuses ---------------------------------------
def test_checked_refuses_host_mixing(dev):
    a = checked.ones(3)
    host = np.ones(3)
    refusals = [lambda: a + host, lambda: host * a, lambda: np.asarray(a), lambda: np.exp(host, out=a),
                lambda: np.concatenate([a, a]), lambda: a[np.array([0, 1])], lambda: checked.maximum(a, host),
                lambda: a.__setitem__(slice(None), host), lambda: np.add.at(a, [0], 1.0)]
    for refused in refusals:
        with pytest.raises(TypeError):
            refused()
    with pytest.raises(AttributeError, match="scatter_add"):
        checked.add.at(a, [0], 1.0)
    with pytest.raises(AttributeError, match="random"):
        checked.random.default_rng(0)


def test_checked_behaves_like_numpy(dev):
    a = checked.asarray(np.arange(6.0).reshape(2, 3))
    total = a.sum()
    assert type(total) is CheckedArray and total.shape == () and float(total) == 15.0
    assert type(a.T) is CheckedArray and a.T.shape == (3, 2)
    assert type(np.float32(2.0) * a) is CheckedArray and type(2 * a) is CheckedArray
    b = a
    b += 1.0
    assert b is a and float(a[0, 0]) == 1.0
    assert type(checked.tanh(a)) is CheckedArray and checked.float32 is np.float32
    parts = checked.split(a, 3, axis=1)
    assert len(parts) == 3 and all(type(p) is CheckedArray for p in parts)


class _ReachesAround(Function):
    """An op written wrongly: it computes on the host with NumPy."""

    def forward(self, x):
        return np.exp(np.asarray(x))

    def backward(self, gy):
        return gy


def test_an_op_reaching_around_the_backend_fails_on_checked_only(dev):
    x = minigrad.ones(3, requires_grad=True)
    assert _ReachesAround.apply(x).device == "cpu"  # on the CPU nothing notices
    with pytest.raises(TypeError, match="to_host"):
        _ReachesAround.apply(x.to(dev))


def test_random_helpers_refuse_unknown_array_modules():
    with pytest.raises(TypeError, match="no registered backend"):
        backend.random_normal((2,), minigrad.float32, xp=object())


def test_undispatched_dot_is_numpys_c_function_and_gives_the_same_bits():
    rng = np.random.default_rng(0)
    h, w = rng.standard_normal((1, 100)).astype(np.float32), rng.standard_normal((400, 100))
    w = w.astype(np.float32)
    fast = backend.undispatched(np.dot)
    # NumPy 1.25+: the C function behind the __array_function__ dispatcher (before: np.dot)
    assert fast is getattr(np.dot, "_implementation", np.dot)
    out = np.empty((1, 400), np.float32)
    assert fast(h, w.T, out) is out
    assert out.tobytes() == np.dot(h, w.T).tobytes()
    # a function with no dispatcher in front (CuPy's, the checked device's) comes back as it is
    assert backend.undispatched(checked.dot) is checked.dot
