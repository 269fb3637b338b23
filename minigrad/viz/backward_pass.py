"""The one backward pass a picture runs itself: every edge's gradient seen by a hook.

Flow pictures (``flow.py``) and the explorer (``explore_record.py``) both need the gradient
that crosses each edge, in the order the engine hands it over. They ask the engine for the
leaves' gradients (``inputs=``), so no ``.grad`` changes, keep the graph (``retain_graph``),
and let every recurrent step hand over its own share of W_hh's gradient (``split_shared``).
"""
from __future__ import annotations

from minigrad import backend
from minigrad.autograd import run_backward
from minigrad.tensor import Tensor


def observe_backward(root, leaves, edge_hook, caller):
    """Backpropagate ``d root / d root = 1`` to ``leaves``, calling ``edge_hook(parent, node,
    gx)`` for each gradient handed along an edge; ``caller`` names the function in the error
    raised when an earlier ``backward()`` already freed the graph."""
    xp = backend.get_array_module(root.array)
    seed = Tensor(xp.ones(root.shape, dtype=root.dtype))
    try:
        run_backward([root], [seed], retain_graph=True, inputs=leaves, edge_hook=edge_hook,
                     split_shared=True)
    except RuntimeError as error:
        if "second time" in str(error):
            raise RuntimeError(
                f"{caller} runs a backward pass itself, but this graph's saved arrays were "
                f"freed by an earlier backward(). Call {caller} before backward(), or call "
                "backward(retain_graph=True).") from None
        raise
