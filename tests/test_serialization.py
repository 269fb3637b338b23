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
