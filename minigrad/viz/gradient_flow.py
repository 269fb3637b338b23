"""How much gradient reaches each time step: ||dL/dh_t|| for t = 0 .. T-1.

Backpropagation through time multiplies by one Jacobian per step::

    dL/dh_t = dL/dh_T · Π_{k=t+1..T} ∂h_k/∂h_{k-1},   ∂h_k/∂h_{k-1} = diag(1 - h_k²) W_hh   (vanilla RNN)

so with the largest singular value of W_hh below 1 the norms shrink geometrically with the
distance from the loss (vanishing), and well above 1 they can grow (exploding). An LSTM's
cell state path multiplies by the forget gate instead, and keeps the gradient alive.
"""
from __future__ import annotations

from minigrad import backend
from minigrad.autograd import grad
from minigrad.ops.rnn_sequence import RecurrentSequence
from minigrad.tensor import Tensor


def gradient_flow(loss, states):
    """Norm of the gradient of ``loss`` with respect to each tensor in ``states``.

    Args:
        loss: a scalar Tensor.
        states: T tensors of the graph, e.g. the ``h`` of a hand-written cell loop or a
            layer's ``hidden_states`` / ``cell_states``.

    Returns:
        ``numpy.ndarray`` of shape (T,), float64: ||dL/dh_t|| (0 where ``loss`` does not
        depend on h_t). Computed with ``minigrad.grad(..., retain_graph=True)``: no ``.grad``
        changes and the graph can still be backpropagated.
    """
    np = backend.host_numpy()
    if not isinstance(loss, Tensor):
        raise TypeError(f"gradient_flow: loss must be a Tensor, got {type(loss).__name__}")
    states = list(states)
    for t, h in enumerate(states):
        if not isinstance(h, Tensor):
            raise TypeError(f"gradient_flow: states[{t}] must be a Tensor, got {type(h).__name__}")
        if not h.requires_grad:
            raise ValueError(f"gradient_flow: states[{t}] (shape {tuple(h.shape)}) does not require "
                             "grad, so no gradient can reach it (was it made under no_grad?)")
        if _inside_a_sequence_node(h):
            raise ValueError(f"gradient_flow: states[{t}] is a step of a layer built with "
                             "graph='layer': its recurrence runs inside one graph node, so the "
                             "gradient reaching a step through later steps is not in the graph. "
                             "Build the layer with graph='steps' (the default) or graph='gates'.")
    if not states:
        return np.zeros(0)
    grads = grad(loss, states, retain_graph=True, allow_unused=True)
    return np.array([0.0 if g is None else
                     float(np.linalg.norm(backend.to_host(g.array).astype(np.float64).ravel()))
                     for g in grads])


def _inside_a_sequence_node(h):
    """True for a slice of a ``RecurrentSequence`` output (``layer.hidden_states`` of a
    layer with ``graph="layer"``)."""
    fn = h.grad_fn
    source = fn.inputs[0] if fn is not None and fn.inputs else None
    return source is not None and isinstance(source[0], RecurrentSequence)


def plot_gradient_flow(flows, path=None, title="Gradient reaching each time step"):
    """Several ||dL/dh_t|| curves on one log axis, to compare cells.

    Args:
        flows: ``{label: norms}``, each norms a sequence of T numbers (``gradient_flow``).
        path: when given, the figure is saved there (the format from the extension).

    Returns:
        ``matplotlib.figure.Figure`` (made without pyplot, so no global backend changes).
    """
    from matplotlib.figure import Figure

    np = backend.host_numpy()
    if not flows:
        raise ValueError("plot_gradient_flow: flows is empty; pass {label: norms, ...}")
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(8.5, 4.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    markers = "osD^vP*X"
    for k, (label, norms) in enumerate(flows.items()):
        norms = np.asarray(norms, dtype=np.float64).ravel()
        steps = np.arange(len(norms))
        positive = norms > 0
        ax.plot(steps[positive], norms[positive], marker=markers[k % len(markers)], markersize=4,
                linewidth=1.8, label=str(label))
    ax.set_yscale("log")
    ax.set_xlabel("time step t  (loss at the last step)")
    ax.set_ylabel(r"$\Vert\partial L/\partial h_t\Vert$")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(frameon=False, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if path is not None:
        fig.savefig(path)
    return fig
