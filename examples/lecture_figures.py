"""The lecture's figures: unrolled graphs, the backward pass, vanishing and exploding gradients.

    python examples/lecture_figures.py --out figures/     # every figure as SVG and PNG

Each ``*_demo`` function builds a small network, runs it, and returns ``{file stem: Digraph or
Figure}``; ``render_all`` writes them. ``vanilla_rnn`` is the lecture's hand-written cell loop,
the smallest thing whose picture shows backpropagation through time::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh),   y_t = h_t W_hy,   L = Σ_t ||y_t - target_t||²
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

import minigrad  # noqa: E402
import nn  # noqa: E402
from minigrad import backend  # noqa: E402
from minigrad.viz import draw_graph, gradient_flow, plot_gradient_flow  # noqa: E402
from nn import Parameter  # noqa: E402


def _weight(shape, name, scale, sigma=None):
    """A named leaf W ~ N(0, scale²); with ``sigma``: sigma · Q for a random orthogonal Q,
    so every singular value (the largest included) is sigma and ||W^k v|| = sigma^k ||v||."""
    if sigma is None:
        w = minigrad.randn(*shape) * scale
    else:
        np = backend.host_numpy()
        q, _ = np.linalg.qr(backend.to_host(minigrad.randn(*shape).array).astype(np.float64))
        w = minigrad.tensor((sigma * q).astype(np.float32))
    p = Parameter(w)
    p.name = name
    return p


def vanilla_rnn(T=5, batch=2, input_size=3, hidden_size=4, output_size=2, sigma=None,
                loss_at="all", input_scale=1.0):
    """The hand-written vanilla RNN, unrolled over T steps inside ``graph_scope`` blocks.

    Args:
        sigma: W_hh = sigma · (random orthogonal), so its largest singular value is sigma
            (None: W_hh ~ N(0, 0.5²)).
        loss_at: ``"all"`` sums a squared error over every step, ``"last"`` uses the last only.

    Returns:
        ``(loss, hs, params)``: the scalar loss, the T hidden states h_t (B, H), and
        ``{"W_xh": .., "W_hh": .., "W_hy": ..}``.
    """
    if loss_at not in ("all", "last"):
        raise ValueError(f"vanilla_rnn: loss_at must be 'all' or 'last', got {loss_at!r}")
    params = {"W_xh": _weight((input_size, hidden_size), "W_xh", 0.5),
              "W_hh": _weight((hidden_size, hidden_size), "W_hh", 0.5, sigma),
              "W_hy": _weight((hidden_size, output_size), "W_hy", 0.5)}
    W_xh, W_hh, W_hy = params["W_xh"], params["W_hh"], params["W_hy"]
    xs = minigrad.randn(T, batch, input_size) * input_scale
    targets = minigrad.randn(T, batch, output_size)
    h = minigrad.zeros(batch, hidden_size)
    hs, loss = [], None
    for t in range(T):
        with minigrad.graph_scope(module="rnn", step=t):
            h = (xs[t] @ W_xh + h @ W_hh).tanh()        # (B, H)
            h.name = f"h{t}"
            hs.append(h)
            if loss_at == "all" or t == T - 1:
                y = h @ W_hy                                # (B, out)
                step_loss = ((y - targets[t]) ** 2).sum()
                loss = step_loss if loss is None else loss + step_loss
    loss.name = "loss"
    return loss, hs, params


class SequenceModel(nn.Module):
    """An nn recurrent layer (``"RNN"``, ``"LSTM"`` or ``"GRU"``) and a linear head on its
    last output; its parameters are named ``rnn.weight_hh_l0``, ``head.weight``, ..."""

    def __init__(self, kind, input_size=3, hidden_size=4, output_size=2, graph="steps"):
        super().__init__()
        self.rnn = getattr(nn, kind)(input_size, hidden_size, graph=graph)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x):                               # x: (T, B, in)
        output, _ = self.rnn(x)
        return self.head(output[-1])                    # (B, out)


def _sequence_loss(kind, T, graph="steps", seed=0):
    minigrad.manual_seed(seed)
    model = SequenceModel(kind, graph=graph)
    x = minigrad.randn(T, 2, 3)
    loss = (model(x) ** 2).sum()
    loss.name = "loss"
    return loss, model


def hello_demo():
    """The hand-written vanilla RNN (T=5) in all three modes, and collapsed."""
    minigrad.manual_seed(0)
    loss, _, _ = vanilla_rnn(T=5)
    return {"hello_rnn_forward": draw_graph(loss),
            "hello_rnn_backward": draw_graph(loss, mode="backward"),
            "hello_rnn_flow": draw_graph(loss, mode="flow"),
            "hello_rnn_collapsed": draw_graph(loss, collapse=True)}


def layers_demo(T=5):
    """nn.RNN, nn.LSTM and nn.GRU unrolled over T steps, in all three modes."""
    figures = {}
    for kind in ("RNN", "LSTM", "GRU"):
        loss, _ = _sequence_loss(kind, T)
        for mode in ("forward", "backward", "flow"):
            figures[f"{kind.lower()}_T{T}_{mode}"] = draw_graph(loss, mode=mode)
    loss, _ = _sequence_loss("LSTM", 3, graph="gates")
    figures["lstm_T3_gates_forward"] = draw_graph(loss)
    return figures


def long_sequence_demo(T=50, very_long=1000):
    """An LSTM over T=50 steps and an RNN over 1000, one box per step, the middle steps
    folded into one box (``max_steps="auto"``) so each picture fits a slide."""
    loss, _ = _sequence_loss("LSTM", T)
    long_loss, _ = _sequence_loss("RNN", very_long)
    return {f"lstm_T{T}_collapsed": draw_graph(loss, collapse=True),
            f"lstm_T{T}_collapsed_flow": draw_graph(loss, mode="flow", collapse=True),
            f"rnn_T{very_long}_collapsed_flow": draw_graph(long_loss, mode="flow", collapse=True)}


def vanishing_demo(T=20, hidden_size=16):
    """||dL/dh_t|| with the loss at the last step: a vanilla RNN with W_hh = 0.5·Q
    (vanishing) and 1.5·Q (exploding, inputs kept tiny so tanh stays linear), beside an
    LSTM with PyTorch's init and with its forget gates opened (bias 3); plus the flow
    picture of a vanishing RNN."""
    flows = {}
    for sigma in (0.5, 1.5):
        minigrad.manual_seed(1)
        loss, hs, _ = vanilla_rnn(T=T, batch=4, input_size=8, hidden_size=hidden_size, sigma=sigma,
                                  loss_at="last", input_scale=1e-4)
        flows[rf"vanilla RNN, $\sigma_{{max}}(W_{{hh}})$ = {sigma}"] = gradient_flow(loss, hs)
    for forget_bias in (None, 3.0):
        minigrad.manual_seed(1)
        model = SequenceModel("LSTM", input_size=8, hidden_size=hidden_size)
        label = "LSTM (PyTorch init)"
        if forget_bias is not None:
            H = hidden_size
            model.rnn.bias_ih_l0.array[H:2 * H] = forget_bias    # gates i, f, g, o: f is rows H..2H
            label = f"LSTM, forget-gate bias {forget_bias:g}"
        loss = (model(minigrad.randn(T, 4, 8)) ** 2).sum()
        flows[label] = gradient_flow(loss, model.rnn.hidden_states)
    figure = plot_gradient_flow(flows, title=f"Gradient reaching each of T = {T} steps")
    minigrad.manual_seed(1)
    small, _, _ = vanilla_rnn(T=10, sigma=0.5, loss_at="last")
    return {"gradient_flow_vanishing_exploding": figure,
            "vanilla_rnn_T10_vanishing_flow": draw_graph(small, mode="flow", collapse=True)}


DEMOS = (hello_demo, layers_demo, long_sequence_demo, vanishing_demo)


def render_all(out, formats=("svg", "png")):
    """Render every demo figure into ``out``; return the written paths, in order."""
    os.makedirs(out, exist_ok=True)
    paths = []
    for demo in DEMOS:
        for stem, figure in demo().items():
            for fmt in formats:
                path = os.path.join(out, f"{stem}.{fmt}")
                if hasattr(figure, "savefig"):
                    figure.savefig(path)
                else:
                    figure.render(outfile=path, format=fmt, cleanup=True)
                paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python examples/lecture_figures.py",
        description="Render the lecture's figures (unrolled graphs, backward, gradient flow).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", default="figures", help="folder for the figures (made if missing)")
    parser.add_argument("--formats", default="svg,png", help="comma-separated formats, any of svg, png, pdf")
    args = parser.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    for path in render_all(args.out, formats):
        print(f"{path}  ({os.path.getsize(path) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
