"""Regenerate every figure in the documentation: ``python docs/make_figures.py``.

Writes into docs/img/. Each figure is a graph minigrad recorded and drew itself (or a
matplotlib plot of numbers it measured) — nothing here is drawn by hand.
"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "examples"))

import minigrad  # noqa: E402
import nn  # noqa: E402
from minigrad import viz  # noqa: E402
import lecture_figures as demos  # noqa: E402

OUT = os.path.join(ROOT, "docs", "img")


def shapes_of_recurrence():
    """One-to-many, many-to-one and many-to-many, recorded with an RNNCell in a loop."""
    minigrad.manual_seed(0)
    H, V = 4, 3
    cell, readout = nn.RNNCell(V, H, bias=False), nn.Linear(H, V, bias=False)
    cell.weight_ih.name, cell.weight_hh.name = "W_xh", "W_hh"
    readout.weight.name = "W_hy"
    figures = {}

    h, token, loss = minigrad.randn(1, H), minigrad.zeros(1, V), None    # one-to-many
    h.name = "image feature"
    for t in range(4):
        with minigrad.graph_scope(module="decoder", step=t):
            h = cell(token, h)
            y = readout(h)
            loss = y.sum() if loss is None else loss + y.sum()
            token = y.softmax(1)                  # the word just written is the next input
    figures["shape_one_to_many"] = viz.draw_graph(loss)

    xs, h = minigrad.randn(5, 1, V), None                                   # many-to-one
    for t in range(5):
        with minigrad.graph_scope(module="encoder", step=t):
            h = cell(xs[t], h)
    figures["shape_many_to_one"] = viz.draw_graph(readout(h).sum())

    h, loss = None, None                                                    # many-to-many
    for t in range(5):
        with minigrad.graph_scope(module="tagger", step=t):
            h = cell(xs[t], h)
            y = readout(h).sum()
            loss = y if loss is None else loss + y
    figures["shape_many_to_many"] = viz.draw_graph(loss)
    return figures


def tutorial_graphs():
    minigrad.manual_seed(0)
    loss, _, _ = demos.vanilla_rnn(T=4)
    figures = {"hello_forward": viz.draw_graph(loss),
               "rnn_flow": viz.draw_graph(loss, mode="flow")}
    minigrad.manual_seed(0)
    rnn = nn.RNN(input_size=4, hidden_size=3, graph="gates")
    output, _ = rnn(minigrad.randn(4, 1, 4))
    figures["rnn_backward"] = viz.draw_graph(output.sum(), mode="backward")
    loss, _ = demos._sequence_loss("LSTM", 5)      # graph="steps": one node per step, h and c edges
    figures["lstm_flow"] = viz.draw_graph(loss, mode="flow")
    loss, _ = demos._sequence_loss("LSTM", 2, graph="gates")
    figures["lstm_forward"] = viz.draw_graph(loss)
    figures["gradient_flow"] = demos.vanishing_demo()["gradient_flow_vanishing_exploding"]
    return figures


def readme_snippet():
    """README's picture is its own code's output: the first python block of README.md, run
    as written in a scratch folder, and the flow graph it draws (its ``graph``)."""
    import re
    import tempfile
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        code = re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)[0]
    namespace, here = {"__name__": "__readme__"}, os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            exec(compile(code, "README.md", "exec"), namespace)
        finally:
            os.chdir(here)
    return {"readme_rnn_flow": namespace["graph"]}


def main():
    os.makedirs(OUT, exist_ok=True)
    for stem, figure in {**shapes_of_recurrence(), **tutorial_graphs(), **readme_snippet()}.items():
        if hasattr(figure, "savefig"):
            path = os.path.join(OUT, f"{stem}.png")
            figure.savefig(path, dpi=110)
        else:
            path = os.path.join(OUT, f"{stem}.svg")
            figure.render(outfile=path, format="svg", cleanup=True)
        print(path)


if __name__ == "__main__":
    main()
