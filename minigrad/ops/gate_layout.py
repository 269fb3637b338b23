"""How the recurrent cells stack their gates: the one layout every implementation reads.

A cell computes all its gate pre-activations with one matmul, so they come as one array
(B, G·H), the G gates side by side along the last axis, each H wide, in PyTorch's order
(so PyTorch weights load unchanged)::

    LSTM   [ i | f | g | o ]     input, forget, candidate ("gate gate"), output
    GRU    [ r | z | n ]         reset, update, candidate

Gate k of row b is columns k·H … (k+1)·H − 1; in a C kernel over one flat array that is
position ``b · G·H + k·H + j``. The NumPy steps (``rnn_cells.py``), the GPU kernels
(``rnn_kernels.py``) and the gate-level steps (``nn/modules/rnn_cells.py``, through
``chunk``) all cut the array this way.
"""
from __future__ import annotations

LSTM_GATES = ("i", "f", "g", "o")
GRU_GATES = ("r", "z", "n")

# which LSTM gates are squashed by σ (the candidate g by tanh)
LSTM_SIGMOID_GATES = ("i", "f", "o")


def gate_columns(gates, name, H):
    """The columns ``slice(k·H, (k+1)·H)`` of gate ``name`` in the layout ``gates``."""
    k = gates.index(name)
    return slice(k * H, (k + 1) * H)


def split_gates(array, gates):
    """Views of ``array`` (B, G·H), one (B, H) per gate of the layout ``gates``."""
    H = array.shape[1] // len(gates)
    return tuple([array[:, k * H:(k + 1) * H] for k in range(len(gates))])  # a list: no generator per call
