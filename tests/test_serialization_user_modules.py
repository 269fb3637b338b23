"""minigrad.save / minigrad.load of a user's own Module subclass, PyTorch's way:

    torch.save(model, f)                          # model = model.RNNModel("LSTM", ...)
    with torch.serialization.safe_globals([RNNModel]):
        model = torch.load(f)

The file names the class as "module.qualname" only; load rebuilds it when that name is the
name of a class the caller allowlisted, and never imports anything by a name from a file."""
import builtins
import importlib
import io
import sys
import threading

import numpy as np
import pytest

import minigrad
import nn
from minigrad import serialization
from minigrad.serialization import add_safe_globals, clear_safe_globals, safe_globals


class TinyLM(nn.Module):
    """Embedding -> a recurrent layer chosen by name -> Linear, built from plain values."""

    def __init__(self, cell, vocab, width, layers, dropout=0.0, tied=False):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.embed = nn.Embedding(vocab, width)
        self.rnn = getattr(nn, cell)(width, width, layers)
        self.head = nn.Linear(width, vocab)
        if tied:
            self.head.weight = self.embed.weight
        self.cell = cell

    def forward(self, tokens):
        out, _ = self.rnn(self.drop(self.embed(tokens)))
        return self.head(self.drop(out))


class Doubler(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        return 2 * self.fc(x)


@pytest.fixture(autouse=True)
def no_process_wide_allowlist():
    clear_safe_globals()
    yield
    clear_safe_globals()


def tokens():
    return minigrad.tensor(np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 1, 2]]))


def saved(model):
    buffer = io.BytesIO()
    minigrad.save(model, buffer)
    return buffer.getvalue()


def structure_with(data, old, new):
    """The checkpoint ``data`` with the text ``old`` of its structure replaced by ``new``."""
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        arrays = {name: f[name] for name in f.files}
    text = bytes(arrays[serialization.STRUCTURE_KEY]).decode()
    assert old in text
    arrays[serialization.STRUCTURE_KEY] = np.frombuffer(text.replace(old, new).encode(),
                                                        dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("cell,tied", [("LSTM", False), ("GRU", True), ("RNN", False)])
def test_a_user_model_round_trips_through_file_objects_inside_safe_globals(tmp_path, cell,
                                                                           tied):
    minigrad.manual_seed(0)
    model = TinyLM(cell, 10, 6, 2, dropout=0.25, tied=tied).eval()
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        minigrad.save(model, f)
    with open(path, "rb") as f:                 # the list a PyTorch program passes, nn's too
        with safe_globals([TinyLM, nn.modules.dropout.Dropout, nn.modules.linear.Linear,
                           nn.modules.rnn.GRU, nn.modules.rnn.LSTM, nn.modules.rnn.RNN,
                           nn.modules.sparse.Embedding]):
            back = minigrad.load(f)

    assert type(back) is TinyLM and back.cell == cell and back.drop.p == 0.25
    assert not back.training and not back.rnn.training
    assert (back.head.weight is back.embed.weight) == tied
    np.testing.assert_array_equal(back(tokens()).numpy(), model(tokens()).numpy())
    assert list(back.state_dict()) == list(model.state_dict())


def test_the_file_names_the_class_by_its_qualified_name_and_holds_no_code():
    data = saved(TinyLM("LSTM", 10, 4, 1))
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        text = bytes(f[serialization.STRUCTURE_KEY]).decode()
    assert f'[["s", "class"], {{"t": "value", "v": "{TinyLM.__module__}.TinyLM"}}]' in text
    assert '{"t": "value", "v": "LSTM"}, {"t": "value", "v": 10}' in text
    assert "def forward" not in text and "getattr" not in text


def test_without_the_allowlist_load_names_the_class_and_the_fix():
    data = saved(TinyLM("LSTM", 10, 4, 1))
    with pytest.raises(ValueError, match=rf"class {TinyLM.__module__}.TinyLM is not "
                       r"allowlisted.*`with minigrad.serialization.safe_globals\(\[TinyLM\]\):`"):
        minigrad.load(io.BytesIO(data))
    with safe_globals([Doubler]):                                     # another class only
        with pytest.raises(ValueError, match="TinyLM is not allowlisted"):
            minigrad.load(io.BytesIO(data))


def test_user_modules_inside_nn_containers_and_nn_modules_inside_user_modules():
    minigrad.manual_seed(1)
    model = nn.Sequential(nn.Embedding(10, 4), nn.ModuleList([Doubler(4), nn.Tanh()]),
                          nn.ModuleDict({"d": Doubler(4)}))
    data = saved(model)
    with pytest.raises(ValueError, match="Doubler is not allowlisted"):
        minigrad.load(io.BytesIO(data))
    with safe_globals([Doubler]):
        back = minigrad.load(io.BytesIO(data))
    x = model[0](tokens())
    assert type(back[1][0]) is Doubler and type(back[2]["d"]) is Doubler
    np.testing.assert_array_equal(back[2]["d"](back[1][0](x)).numpy(),
                                  model[2]["d"](model[1][0](x)).numpy())


def test_a_file_naming_other_code_is_refused_without_importing_anything(monkeypatch):
    data = saved(TinyLM("LSTM", 10, 4, 1))
    imported = []
    real_import, real_import_module = builtins.__import__, importlib.import_module
    monkeypatch.setattr(builtins, "__import__",
                        lambda name, *a, **k: imported.append(name) or real_import(name, *a, **k))
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a: imported.append(name) or real_import_module(name, *a))
    assert "antigravity" not in sys.modules
    for name in ("antigravity.Foo", "os.system", "builtins.eval", "nn.modules.linear.Linear"):
        evil = structure_with(data, f"{TinyLM.__module__}.TinyLM", name)
        with safe_globals([TinyLM]):
            with pytest.raises(ValueError, match=rf"class {name} is not allowlisted"):
                minigrad.load(io.BytesIO(evil))
    assert "antigravity" not in sys.modules
    assert not [n for n in imported if n.split(".")[0] in ("antigravity", "os", "builtins")]


def test_an_allowlisted_function_is_accepted_but_never_constructed():
    data = saved(TinyLM("LSTM", 10, 4, 1))
    called = []

    def system(*args):
        called.append(args)
    evil = structure_with(data, f"{TinyLM.__module__}.TinyLM",
                          f"{system.__module__}.{system.__qualname__}")
    with safe_globals([system, minigrad.relu]):                      # as PyTorch's lists hold
        with pytest.raises(ValueError, match="system is allowlisted but is not an nn.Module"):
            minigrad.load(io.BytesIO(evil))
    assert called == []


def test_names_alone_are_not_an_allowlist():
    with pytest.raises(TypeError, match=r"safe_globals: entry 1 is 'os.system' \(a str\)"):
        safe_globals([TinyLM, "os.system"])
    with pytest.raises(TypeError, match="add_safe_globals: expected a list of classes"):
        add_safe_globals("model.RNNModel")
    assert serialization.get_safe_globals() == []


def test_add_safe_globals_allows_in_every_thread_until_cleared():
    data = saved(TinyLM("GRU", 10, 4, 1))
    add_safe_globals([TinyLM])
    assert serialization.get_safe_globals() == [TinyLM]
    results = []
    thread = threading.Thread(target=lambda: results.append(type(minigrad.load(io.BytesIO(data)))))
    thread.start()
    thread.join()
    assert results == [TinyLM] and type(minigrad.load(io.BytesIO(data))) is TinyLM
    clear_safe_globals()
    with pytest.raises(ValueError, match="TinyLM is not allowlisted"):
        minigrad.load(io.BytesIO(data))


def test_safe_globals_blocks_nest_and_restore_the_allowlist_even_on_exceptions():
    add_safe_globals([Doubler])
    with pytest.raises(RuntimeError, match="inside"):
        with safe_globals([TinyLM]):
            assert serialization.get_safe_globals() == [Doubler, TinyLM]
            with safe_globals([(Doubler, "model.Doubler")]):
                assert serialization.get_safe_globals() == [Doubler, TinyLM,
                                                            (Doubler, "model.Doubler")]
            assert serialization.get_safe_globals() == [Doubler, TinyLM]
            raise RuntimeError("inside")
    assert serialization.get_safe_globals() == [Doubler]
    with pytest.raises(ValueError, match="TinyLM is not allowlisted"):
        minigrad.load(io.BytesIO(saved(TinyLM("LSTM", 10, 4, 1))))


def test_a_class_allowlisted_under_the_name_a_file_gives_it():
    data = structure_with(saved(Doubler(3)), f"{Doubler.__module__}.Doubler", "model.Doubler")
    with safe_globals([(Doubler, "model.Doubler")]):
        assert type(minigrad.load(io.BytesIO(data))) is Doubler


def test_safe_globals_is_local_to_its_thread():
    data = saved(TinyLM("LSTM", 10, 4, 1))

    def load_in_a_thread():
        out = []

        def target():
            try:
                out.append(type(minigrad.load(io.BytesIO(data))))
            except ValueError as error:
                out.append(str(error))
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        return out[0]
    with safe_globals([TinyLM]):                      # open here, not in a thread started here
        assert "not allowlisted" in load_in_a_thread()
        assert type(minigrad.load(io.BytesIO(data))) is TinyLM

    inside, leave = threading.Event(), threading.Event()

    def holds_a_block_open():
        with safe_globals([TinyLM]):
            inside.set()
            leave.wait(30)
    holder = threading.Thread(target=holds_a_block_open)
    holder.start()
    try:
        assert inside.wait(30)
        with pytest.raises(ValueError, match="TinyLM is not allowlisted"):
            minigrad.load(io.BytesIO(data))
    finally:
        leave.set()
        holder.join()


def test_a_user_model_changed_after_construction_is_reported_at_load():
    model = Doubler(3)
    model.extra = nn.Tanh()
    with safe_globals([Doubler]):
        with pytest.raises(ValueError, match=r"rebuilt .*Doubler differs.*changed after it was"):
            minigrad.load(io.BytesIO(saved(model)))
