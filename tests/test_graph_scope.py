"""``graph_scope``: the one place that stamps a module path and a time step on new nodes."""
import pathlib
import re

import pytest

import minigrad
import nn
from minigrad.grad_mode import NO_STEP, current_scope, graph_scope

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_scope_keeps_what_it_is_not_given_and_restores_after():
    assert current_scope() is None
    with graph_scope(module="enc", step=3):
        with graph_scope(module="enc.lstm"):
            assert current_scope() == ("enc.lstm", 3)
        with graph_scope(step=4):
            assert current_scope() == ("enc", 4)
        with graph_scope(module="enc.l0", step=NO_STEP):
            assert current_scope() == ("enc.l0", None)
        assert current_scope() == ("enc", 3)
    assert current_scope() is None


def test_scope_is_restored_when_the_block_raises():
    with pytest.raises(ValueError):
        with graph_scope(module="m", step=1):
            raise ValueError("inside")
    assert current_scope() is None


def test_a_failing_module_call_leaves_the_scope_as_it_was():
    layer = nn.LSTM(3, 4)
    with graph_scope(step=5):
        with pytest.raises(ValueError):
            layer(minigrad.zeros(2, 2, 7))          # wrong feature size
        assert current_scope() == (None, 5)
    assert current_scope() is None


def test_nn_stamps_scope_only_through_graph_scope():
    """No module, cell or layer writes the thread's scope by hand (it would not be restored
    when forward raises)."""
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "nn").rglob("*.py"))
                 if re.search(r"STATE\.scope\s*=", p.read_text())]
    assert offenders == []
