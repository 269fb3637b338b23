"""A recurrent layer over a ``PackedSequence`` (``nn.utils.rnn``): sequences of different
lengths in one batch.

The layer runs on the padded batch, longest first, and keeps only the real steps. That is
exact because a recurrent layer is causal: h_t depends on x_0 … x_t only, so the padding
after a sequence's end changes nothing before it. Each sequence's h_n (and c_n) is its state
at its own last step, L_b − 1, picked from the steps, so the gradient reaches exactly the
steps that made it. (The padded steps are computed and thrown away: at most B·T − Σ L_b of
them.) The reverse direction of a bidirectional layer must start at each sequence's own
end: it runs forward in time over each sequence read backwards within its length
(``reversed_within``), and its outputs are put back in time order the same way; its steps
are tagged with their place in that reversed reading.
"""
from __future__ import annotations

from minigrad.grad_mode import graph_scope
from minigrad.ops.join import stack
from minigrad.tensor import Tensor

from ..utils.rnn import PackedSequence, index_tensor, pack_padded_sequence, padded_in_sorted_order
from .rnn_cells import _scope_path


def run_packed(layer, packed, hx):
    """``layer(packed, hx)``: ``(PackedSequence of the top layer's outputs, h_n)`` (h_n a tuple
    (h_n, c_n) for the LSTM), h_n in the batch order given to packing."""
    x, lengths = padded_in_sorted_order(packed)
    layer._check_input(x)          # (T, B, in) here whatever the layout: B, T >= 1 either way
    if packed.sorted_indices is not None and hx is not None:    # hx comes in the given order
        order = packed.sorted_indices
        hx = tuple(h[:, order] for h in hx) if isinstance(hx, (tuple, list)) else hx[:, order]
    h0, c0 = layer._initial_states(hx, x, False)
    path = _scope_path(layer)
    output, h_n, c_n = layer._run_layers(x, h0, c0, path, lengths)
    with graph_scope(module=path):
        data = pack_padded_sequence(output, lengths).data     # the outputs at the real steps
        states = [stack(h_n, 0)] + ([stack(c_n, 0)] if c0 is not None else [])
        if packed.unsorted_indices is not None:
            states = [s[:, packed.unsorted_indices] for s in states]
    result = PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                            packed.unsorted_indices)
    return result, (tuple(states) if c0 is not None else states[0])


def last_states(hs, lengths):
    """(B, H): each sequence's state at its own last step, ``hs[L_b − 1][b]``, from the T states
    (a list of (B, H) tensors, or one (T, B, H) tensor)."""
    states = hs if isinstance(hs, Tensor) else stack(hs, 0)
    last = index_tensor([n - 1 for n in lengths], states)
    return states[last, index_tensor(list(range(len(lengths))), states)]


def reversed_within(x, lengths):
    """(T, B, *): each sequence b read backwards within its length, x[L_b − 1 − t, b] for
    t < L_b, and the padding after it left where it is (applied twice: x again)."""
    T, B = x.shape[0], x.shape[1]
    steps = [[n - 1 - t if t < n else t for n in lengths] for t in range(T)]
    rows = [list(range(B))] * T
    return x[index_tensor(steps, x), index_tensor(rows, x)]
