"""minigrad.save / minigrad.load: nested round trips, no pickle, atomic writes, clear
errors on damaged files."""
import os
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
from minigrad import serialization
import nn


def test_nested_checkpoint_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = minigrad.optim.Adam(model.parameters(), lr=3e-4)
    model(minigrad.randn(5, 3)).sum().backward()
    opt.step()
    ckpt = {"model": model.state_dict(), "optim": opt.state_dict(), "step": 1200,
            "best_loss": 1.25, "name": "char-lm", "flags": [True, None, (1, 2.5)],
            "vocab": {"a": 0, "b": 1}, "array": np.arange(4, dtype=np.int64),
            "scalar": np.float32(0.5), "float64": minigrad.tensor(np.eye(2))}
    path = tmp_path / "ckpt.npz"
    minigrad.save(ckpt, path)
    back = minigrad.load(path)

    assert isinstance(back["model"], OrderedDict) and list(back["model"]) == list(ckpt["model"])
    for k, v in ckpt["model"].items():
        assert isinstance(back["model"][k], minigrad.Tensor)
        assert back["model"][k].dtype == v.dtype
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    assert back["step"] == 1200 and isinstance(back["step"], int)
    assert back["best_loss"] == 1.25 and back["name"] == "char-lm"
    assert back["flags"] == [True, None, (1, 2.5)] and back["vocab"] == {"a": 0, "b": 1}
    np.testing.assert_array_equal(back["array"], np.arange(4))
    assert back["scalar"] == np.float32(0.5) and back["scalar"].dtype == np.float32
    assert back["float64"].dtype == minigrad.float64
    assert set(back["optim"]["state"]) == {0, 1, 2, 3, 4, 5}          # int keys survive
    assert back["optim"]["param_groups"][0]["lr"] == 3e-4
    np.testing.assert_array_equal(back["optim"]["state"][0]["exp_avg"],
                                  ckpt["optim"]["state"][0]["exp_avg"])

    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    fresh.load_state_dict(back["model"])
    minigrad.optim.Adam(fresh.parameters()).load_state_dict(back["optim"])


def test_file_is_plain_npz_without_pickle(tmp_path):
    path = tmp_path / "m.npz"
    minigrad.save(nn.Linear(2, 3).state_dict(), path)
    with np.load(path, allow_pickle=False) as f:                       # readable by NumPy alone
        assert {"weight", "bias", serialization.STRUCTURE_KEY} == set(f.files)
        assert f["weight"].shape == (3, 2)


def test_unsupported_objects_are_refused_naming_where(tmp_path):
    with pytest.raises(TypeError, match=r"type function at 'model/fn'"):
        minigrad.save({"model": {"fn": lambda: 0}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="dtype object"):
        minigrad.save({"a": np.array([object()])}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []                                  # nothing left behind


def test_crash_mid_save_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    minigrad.save({"step": 1, "w": np.ones(3)}, path)
    old_bytes = path.read_bytes()

    def crashing_writer(fileobj, arrays):
        fileobj.write(b"PK\x03\x04 half a zip file")                  # partial data, then die
        raise KeyboardInterrupt("power cut")
    monkeypatch.setattr(serialization, "_write_npz", crashing_writer)
    with pytest.raises(KeyboardInterrupt):
        minigrad.save({"step": 2, "w": np.zeros(3)}, path)

    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert minigrad.load(path)["step"] == 1


def test_truncated_file_raises_naming_the_path(tmp_path):
    path = tmp_path / "ckpt.npz"
    minigrad.save({"w": np.ones((50, 50))}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cannot read '.*ckpt.npz'.*corrupt, truncated"):
        minigrad.load(path)


@pytest.mark.parametrize("content", [b"", b"definitely not a zip", b"\x93NUMPY garbage"])
def test_garbage_file_raises_clear_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="bad.npz"):
        minigrad.load(path)


def test_npz_not_written_by_minigrad_is_rejected(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, w=np.ones(2))
    with pytest.raises(ValueError, match="not written by minigrad.save"):
        minigrad.load(path)


def test_pickled_object_array_is_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    structure = np.frombuffer(b'{"format": "minigrad-checkpoint", "version": 1, '
                              b'"root": {"t": "array", "name": "x"}}', dtype=np.uint8)
    np.savez(path, x=np.array([{"payload": 1}], dtype=object),
             **{serialization.STRUCTURE_KEY: structure})
    with pytest.raises(ValueError, match="evil.npz"):
        minigrad.load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        minigrad.load(tmp_path / "nope.npz")


# ---------------------------------------------------------------------------
# File objects
# ---------------------------------------------------------------------------
def test_save_and_load_on_file_objects(tmp_path):
    import io
    state = nn.Linear(3, 2).state_dict()
    buffer = io.BytesIO()
    minigrad.save(state, buffer)
    buffer.seek(0)
    back = minigrad.load(buffer)
    np.testing.assert_array_equal(back["weight"].numpy(), state["weight"].numpy())

    with open(tmp_path / "ckpt.npz", "wb") as f:                      # torch.save(obj, f)
        minigrad.save({"step": 3, "w": state["weight"]}, f)
    with open(tmp_path / "ckpt.npz", "rb") as f:
        assert minigrad.load(f)["step"] == 3


def test_load_from_a_stream_that_cannot_seek(tmp_path):
    import io

    class Pipe(io.RawIOBase):                                          # e.g. a socket or pipe
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, b):
            chunk = self._data.read(len(b))
            b[:len(chunk)] = chunk
            return len(chunk)
    buffer = io.BytesIO()
    minigrad.save({"w": np.arange(6.0)}, buffer)
    np.testing.assert_array_equal(minigrad.load(Pipe(buffer.getvalue()))["w"], np.arange(6.0))
    with pytest.raises(ValueError, match="max_bytes=100"):
        minigrad.load(Pipe(buffer.getvalue()), max_bytes=100)


def test_max_bytes_refuses_a_large_checkpoint_until_raised(tmp_path):
    path = tmp_path / "big.npz"
    minigrad.save({"w": np.zeros(10_000)}, path)                       # 80 kB of arrays
    with pytest.raises(ValueError, match=r"big.npz.*max_bytes=50000.*max_bytes=N"):
        minigrad.load(path, max_bytes=50_000)
    assert minigrad.load(path, max_bytes=200_000)["w"].shape == (10_000,)
    with pytest.raises(ValueError, match="max_bytes must be a non-negative int"):
        minigrad.load(path, max_bytes="lots")


def test_names_that_look_like_paths_are_saved_under_plain_names(tmp_path):
    path = tmp_path / "odd.npz"
    weird = {"..": {"/etc": np.ones(2)}, "a\\b": np.zeros(1), "c:d": np.ones(1)}
    minigrad.save(weird, path)
    with np.load(path, allow_pickle=False) as f:
        assert all(serialization.is_plain_member_name(n) for n in f.files)
    back = minigrad.load(path)
    np.testing.assert_array_equal(back[".."]["/etc"], np.ones(2))
    assert set(back) == set(weird)


def test_save_refuses_nesting_that_load_would_refuse(tmp_path):
    deep = 1
    for _ in range(serialization.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper than"):
        minigrad.save(deep, tmp_path / "deep.npz")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------
# Whole modules, without pickle
# ---------------------------------------------------------------------------
def module_tree(model):
    return [(path, type(m).__name__) for path, m in model.named_modules()]


def test_whole_module_round_trip_rebuilds_the_tree_and_the_outputs(tmp_path):
    minigrad.manual_seed(0)
    model = nn.Sequential(OrderedDict([
        ("embed", nn.Embedding(10, 4)),
        ("lstm", nn.LSTM(4, 6, num_layers=2, batch_first=True)),
    ]))
    head = nn.ModuleDict({"out": nn.Linear(6, 3), "norm": nn.LayerNorm(6)})
    full = nn.ModuleList([model, head, nn.Dropout(0.25)])
    full.append(nn.Conv2d(1, 2, kernel_size=3, padding=1))            # added after construction
    full.eval()
    path = tmp_path / "model.npz"
    minigrad.save(full, path)
    back = minigrad.load(path)

    assert module_tree(back) == module_tree(full)
    assert back[2].p == 0.25 and not back.training and not back[0].lstm.training
    tokens = minigrad.tensor(np.array([[1, 2, 3], [4, 5, 6]]))
    out, _ = full[0](tokens)
    out_back, _ = back[0](tokens)
    np.testing.assert_array_equal(out_back.numpy(), out.numpy())
    np.testing.assert_array_equal(back[1]["out"](out_back).numpy(), full[1]["out"](out).numpy())
    for (k, v), (k2, v2) in zip(full.state_dict().items(), back.state_dict().items()):
        assert k == k2 and v.dtype == v2.dtype
        np.testing.assert_array_equal(v.numpy(), v2.numpy())


def test_whole_module_keeps_float64_and_goes_through_file_objects():
    import io
    model = nn.GRU(3, 4).double()
    buffer = io.BytesIO()
    minigrad.save({"model": model, "step": 7}, buffer)
    buffer.seek(0)
    back = minigrad.load(buffer)
    assert back["step"] == 7 and isinstance(back["model"], nn.GRU)
    assert all(p.dtype == minigrad.float64 for p in back["model"].parameters())
    x = minigrad.randn(5, 2, 3, dtype=minigrad.float64)
    np.testing.assert_array_equal(back["model"](x)[0].numpy(), model(x)[0].numpy())


class TakesAnArray(nn.Module):
    def __init__(self, init):
        super().__init__()
        self.fc = nn.Linear(*init.shape)

    def forward(self, x):
        return self.fc(x)


def test_a_user_subclass_built_from_an_array_is_refused_with_the_state_dict_way(tmp_path):
    for model in (TakesAnArray(np.ones((2, 2))),
                  nn.Sequential(nn.Linear(2, 2), TakesAnArray(np.ones((2, 2))))):
        with pytest.raises(TypeError, match=r"TakesAnArray\) was constructed with an argument "
                           r"of type ndarray.*minigrad.save\(model.state_dict\(\), f\)"):
            minigrad.save(model, tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []
    model = TakesAnArray(np.ones((2, 2)))
    minigrad.save(model.state_dict(), tmp_path / "m.npz")            # the way that works
    TakesAnArray(np.ones((2, 2))).load_state_dict(minigrad.load(tmp_path / "m.npz"))


def test_a_module_built_from_unrecordable_arguments_is_refused(tmp_path):
    layer = nn.Linear(2, 2)
    object.__setattr__(layer, "_constructor_arguments", "an argument of type ndarray")
    with pytest.raises(TypeError, match="constructed with an argument of type ndarray"):
        minigrad.save(layer, tmp_path / "m.npz")


def test_load_never_builds_a_class_that_nn_does_not_export(tmp_path):
    path = tmp_path / "m.npz"
    minigrad.save(nn.Linear(2, 3), path)
    with np.load(path, allow_pickle=False) as f:
        arrays = {name: f[name] for name in f.files}
    text = bytes(arrays[serialization.STRUCTURE_KEY]).decode()
    for evil in ("MyNet", "Tensor", "__class__", "functional"):
        arrays[serialization.STRUCTURE_KEY] = np.frombuffer(
            text.replace('"Linear"', f'"{evil}"', 1).encode(), dtype=np.uint8)
        np.savez(path, **arrays)
        with pytest.raises(ValueError, match=rf"m.npz.*nn.{evil} is not registered in nn"):
            minigrad.load(path)


def test_a_module_changed_after_construction_is_reported_at_load(tmp_path):
    layer = nn.Linear(2, 3)
    layer.extra = nn.Tanh()                                            # not from the constructor
    minigrad.save(layer, tmp_path / "m.npz")
    with pytest.raises(ValueError, match="changed after it was constructed"):
        minigrad.load(tmp_path / "m.npz")


def test_a_whole_module_needs_nn_imported_and_says_so(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "m.npz"
    minigrad.save(nn.Linear(2, 3), path)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import sys, minigrad\n"
            "try:\n    minigrad.load(sys.argv[1])\n"
            "except ValueError as e:\n    print(e)\n"
            "import nn\nprint(type(minigrad.load(sys.argv[1])).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, cwd=root, timeout=120)
    assert "holds a whole module (nn.Linear); `import nn` before minigrad.load" in out.stdout
    assert out.stdout.strip().endswith("Linear"), out.stderr


def test_dtype_and_numpy_scalar_arguments_are_recorded(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3, dtype=minigrad.float64),
                          nn.LayerNorm(3, eps=np.float32(1e-3), dtype=np.float64))
    minigrad.save(model, tmp_path / "m.npz")
    back = minigrad.load(tmp_path / "m.npz")
    assert back[0].weight.dtype == minigrad.float64 and back[1].eps == pytest.approx(1e-3)
    assert back[0]._constructor_arguments == ([2, 3], {"dtype": {"__dtype__": "float64"}})
