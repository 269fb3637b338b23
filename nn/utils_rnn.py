"""``detach_state``: cut a recurrent state from the graph, for truncated BPTT.

Backpropagation through time over a long sequence keeps the whole unrolled graph in
memory. Truncated BPTT cuts the sequence into chunks of T steps, backpropagates
through each chunk only, but still carries the hidden state forward from one chunk
to the next (so the model sees the whole history, and learns over spans of up to T)::

    state = None
    for chunk_x, chunk_y in chunks(data, T):        # (T, B, ·) each
        output, state = lstm(chunk_x, state)        # state = (h_n, c_n)
        loss = F.cross_entropy(head(output).reshape(-1, V), chunk_y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()                             # through this chunk's T steps only
        optimizer.step()
        state = nn.detach_state(state)              # keep the values, drop the graph

Without the last line the next backward would try to run into the previous chunk's
graph, whose saved arrays were freed (and the memory would grow with every chunk).
"""
from __future__ import annotations

from minigrad.tensor import Tensor


def detach_state(state):
    """The same state with every Tensor detached: a Tensor, or a (nested) tuple or list
    of them such as the LSTM's ``(h, c)``; ``None`` stays ``None``."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor or a tuple/list of Tensors, "
                    f"got {type(state).__name__}")
