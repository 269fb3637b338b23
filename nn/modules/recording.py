"""How a recurrent layer or cell records its time loop in the graph: the ``graph=`` choice.

Every recurrent module computes the same numbers and gradients (bit for bit) in each mode;
what changes is what the graph holds, and so what a picture can show:

=========  ==============================================  ===============================
``graph``  recorded                                        for
=========  ==============================================  ===============================
"gates"    every op of every step (matmuls, σ, tanh, ⊙)    drawing the gates; double
                                                           backward (``create_graph``)
"steps"    one node per time step (the default)            the unrolled picture, per-step
                                                           gradients ||∂L/∂h_t||
"layer"    one node for a layer's whole time loop          speed at small sizes; no steps
                                                           in the picture
=========  ==============================================  ===============================

Cells (``nn.LSTMCell`` ...) take "gates" or "steps": a cell is one step. ``fused=`` is the
old spelling (``True`` = "steps", ``False`` = "gates", ``"sequence"`` = "layer"), kept for a
while with a ``DeprecationWarning``.
"""
from __future__ import annotations

import contextlib
import warnings

GRAPH_MODES = ("gates", "steps", "layer")
_FROM_FUSED = {True: "steps", False: "gates", "sequence": "layer"}


def resolve_graph(owner, graph, fused=None, allowed=GRAPH_MODES):
    """The recording mode ``owner`` (a class name) was asked for, checked against ``allowed``."""
    if fused is not None:
        if fused not in _FROM_FUSED:
            raise ValueError(f"{owner}: fused must be True, False or 'sequence' (deprecated: "
                             f"use graph= one of {allowed}), got {fused!r}")
        warnings.warn(f"{owner}: fused={fused!r} is deprecated; use graph="
                      f"{_FROM_FUSED[fused]!r}", DeprecationWarning, stacklevel=4)
        graph = _FROM_FUSED[fused]
    if graph not in allowed:
        choices = ", ".join(repr(m) for m in allowed)
        raise ValueError(f"{owner}: graph must be one of {choices}, got {graph!r}")
    return graph


def recurrent_modules(module):
    """Every recurrent layer and cell in ``module``'s tree (itself included)."""
    return [m for m in module.modules() if hasattr(m, "graph") and hasattr(m, "hidden_size")]


@contextlib.contextmanager
def recorded_as(module, graph):
    """Record every recurrent layer and cell of ``module`` as ``graph`` inside the block, then
    put each one back as it was (the same weights, the same arithmetic)::

        with nn.recorded_as(model, "steps"):     # a model trained with graph="layer"
            loss = criterion(model(x), y)        # ... drawn one node per time step
        viz.draw_graph(loss)

    A cell asked for "layer" keeps "steps" (a cell is a single step)."""
    if graph not in GRAPH_MODES:
        raise ValueError(f"recorded_as: graph must be one of {GRAPH_MODES}, got {graph!r}")
    layers = recurrent_modules(module)
    before = [m.graph for m in layers]
    try:
        for m in layers:
            m.graph = graph if graph in m.graph_modes else "steps"
        yield module
    finally:
        for m, mode in zip(layers, before):
            m.graph = mode
