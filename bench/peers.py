"""The same char-LM training step in other frameworks: PyTorch (CPU) and DeZero.

Every peer builds Embedding(V, H) → recurrent layer (H → H) → Linear(H, V) and runs one
step as ``train_step(idx, targets, state=None) -> (loss, state)`` on time-major (T, B)
integer arrays: cross-entropy over all T·B outputs, backward through all T steps, clip the
global gradient norm to 5, one Adam step. A peer that is not installed is reported as
absent by :func:`peer_status`, never replaced by something else.

    torch_lstm   PyTorch ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``: one fused C++ kernel per layer
    torch_cell   PyTorch's unrolled ``nn.LSTMCell`` (``GRUCell``, ``RNNCell``) loop in Python
    dezero       the ``dezero`` package (``dezero.layers.LSTM`` / ``RNN``: 8 matmuls per
                 LSTM step, one graph node per operation, like an unfused minigrad)
"""
from __future__ import annotations

import importlib

import numpy as np

MAX_NORM = 5.0


def peer_status(name):
    """``None`` when the peer can run, else a one-line reason it is absent."""
    module = "dezero" if name == "dezero" else "torch"
    try:
        if module == "dezero":
            _import_dezero()
        else:
            importlib.import_module("torch")
    except Exception as error:  # any import failure means: absent
        return f"{module} not importable ({type(error).__name__}: {error})"
    return None


# -- PyTorch ------------------------------------------------------------------------------
class TorchCharLM:
    """PyTorch char-LM; ``loop=True`` unrolls the cell in Python instead of the fused layer."""

    def __init__(self, cell, vocab, hidden, loop=False, seed=0, lr=1e-3, threads=None):
        import torch
        from torch import nn
        if threads:                     # else as set by the caller (bench/run.py: 2)
            torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.torch, self.cell, self.loop, self.V = torch, cell, loop, vocab
        self.embedding = nn.Embedding(vocab, hidden)
        layer = {"lstm": (nn.LSTM, nn.LSTMCell), "gru": (nn.GRU, nn.GRUCell),
                 "rnn": (nn.RNN, nn.RNNCell)}[cell][1 if loop else 0]
        self.rnn = layer(hidden, hidden)
        self.out = nn.Linear(hidden, vocab)
        self.params = [p for m in (self.embedding, self.rnn, self.out) for p in m.parameters()]
        self.opt = torch.optim.Adam(self.params, lr=lr)

    def train_step(self, idx, targets, state=None):
        torch = self.torch
        self.opt.zero_grad(set_to_none=True)  # drop last step's gradients before the graph
        x = self.embedding(torch.from_numpy(idx))                     # (T, B, H)
        if self.loop:
            out, state = self._unrolled(x, state)
        else:
            out, state = self.rnn(x, state)
        logits = self.out(out)                                        # (T, B, V)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.V),
                                                 torch.from_numpy(targets).reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, MAX_NORM)
        self.opt.step()
        if isinstance(state, tuple):
            state = tuple(s.detach() for s in state)
        elif state is not None:
            state = state.detach()
        return loss.item(), state

    def _unrolled(self, x, state):
        torch = self.torch
        T, B, H = x.shape
        if state is None:
            zeros = x.new_zeros(B, H)
            state = (zeros, zeros) if self.cell == "lstm" else zeros
        hs = []
        for t in range(T):
            state = self.rnn(x[t], state)
            hs.append(state[0] if self.cell == "lstm" else state)
        return torch.stack(hs), state


# -- DeZero -------------------------------------------------------------------------------
def _import_dezero():
    """DeZero 0.0.13 still uses ``numpy.int``, removed in NumPy 2: restore the alias first."""
    if not hasattr(np, "int"):
        np.int = int
    import dezero  # noqa: F401
    return importlib.import_module("dezero")


class DezeroCharLM:
    """DeZero char-LM, written as its book writes an RNN language model (loss summed per step)."""

    def __init__(self, cell, vocab, hidden, seed=0, lr=1e-3):
        if cell not in ("lstm", "rnn"):
            raise ValueError(f"dezero has no {cell.upper()} layer")
        dezero = _import_dezero()
        import dezero.layers as L
        import dezero.optimizers as O
        np.random.seed(seed)
        self.F, self.cell = importlib.import_module("dezero.functions"), cell
        self.model = dezero.Model()
        self.model.embedding = L.EmbedID(vocab, hidden)
        self.model.embedding.W.data = self.model.embedding.W.data.astype(np.float32)
        self.model.rnn = (L.LSTM if cell == "lstm" else L.RNN)(hidden, in_size=hidden)
        self.model.out = L.Linear(vocab, in_size=hidden)
        self.opt = O.Adam(alpha=lr).setup(self.model)
        self.opt.add_hook(O.ClipGrad(MAX_NORM))

    def train_step(self, idx, targets, state=None):
        F, model = self.F, self.model
        T = idx.shape[0]
        rnn = model.rnn
        rnn.reset_state()
        if state is not None:
            if self.cell == "lstm":
                rnn.h, rnn.c = state
            else:
                rnn.h = state
        loss = 0
        for t in range(T):
            h = rnn(model.embedding(idx[t]))
            loss = loss + F.softmax_cross_entropy(model.out(h), targets[t])
        loss = loss * np.float32(1.0 / T)
        model.cleargrads()
        loss.backward()
        self.opt.update()
        loss.unchain_backward()                                      # truncate: detach the state
        state = (rnn.h, rnn.c) if self.cell == "lstm" else rnn.h
        return float(loss.data), state


def make_peer(name, cell, vocab, hidden, seed=0):
    """Build the peer called ``name`` (``torch_lstm``, ``torch_cell`` or ``dezero``)."""
    if name == "torch_lstm":
        return TorchCharLM(cell, vocab, hidden, loop=False, seed=seed)
    if name == "torch_cell":
        return TorchCharLM(cell, vocab, hidden, loop=True, seed=seed)
    if name == "dezero":
        return DezeroCharLM(cell, vocab, hidden, seed=seed)
    raise ValueError(f"unknown peer {name!r}")
