"""Pictures of the recurrent computation, drawn by ``minigrad.viz``.

- ``unrolled_graph``: a few characters of text through the model, the loss, and the graph
  that recorded them, in ``forward`` mode (the ops, one cluster per time step, the shared
  weights drawn once) and in ``flow`` mode (every edge sized and coloured by the norm of
  the gradient that crosses it).
- ``gradient_flow``: ||dL_T / dh_t|| for every step t of a window, where L_T is the loss at
  the window's last character: how far back a prediction's gradient reaches (it fades
  faster through a vanilla RNN than through an LSTM's cell state).
- ``plot_units``: the interpretable-cells picture: a passage with each character's
  background coloured by one hidden unit's value, one panel per unit, with a colour key.
"""
from __future__ import annotations

import contextlib
import os
import shutil

import numpy as np

import minigrad
import nn.functional as F


def have_dot():
    """True when graphviz's ``dot`` program is on PATH (graph pictures need it)."""
    return shutil.which("dot") is not None


def render(digraph, path, fmt="png"):
    """Render a ``graphviz.Digraph`` to ``path`` + ".<fmt>" and return that file's path."""
    return digraph.render(path, format=fmt, cleanup=True)


def window_loss(model, ids, device="cpu", last_only=False):
    """Loss of predicting ``ids[1:]`` from ``ids[:-1]`` (one stream, fresh state): the mean
    over the window, or the last character's loss alone when ``last_only``."""
    x = minigrad.tensor(np.asarray(ids[:-1])[:, None], device=device)       # (T, 1)
    y = minigrad.tensor(np.asarray(ids[1:]), device=device)                  # (T,)
    with one_node_per_step(model.rnn):
        logits, _ = model(x)
    logits = logits.reshape(logits.shape[0], logits.shape[2])                # (T, V)
    if last_only:
        logits, y = logits[-1:], y[-1:]
    loss = F.cross_entropy(logits, y)
    loss.name = "loss"
    return loss


@contextlib.contextmanager
def one_node_per_step(layer):
    """Pictures need the steps in the graph: a layer trained with graph="layer" draws
    with graph="steps", the same weights and the same arithmetic."""
    with layer.recorded_as("steps" if layer.graph == "layer" else layer.graph):
        yield layer


def unrolled_graph(loss, out_dir, prefix):
    """Render ``loss``'s graph in forward and flow mode; returns the two file paths."""
    paths = []
    for mode in ("forward", "flow"):
        graph = minigrad.viz.draw_graph(loss, mode=mode, group="timestep")
        paths.append(render(graph, os.path.join(out_dir, f"{prefix}_{mode}")))
    return paths


def gradient_flow(model, ids, device="cpu"):
    """(T,) host array: ||dL_T / dh_t|| over the top layer's hidden states."""
    loss = window_loss(model, ids, device, last_only=True)
    return minigrad.viz.gradient_flow(loss, model.rnn.hidden_states)


def plot_units(text, acts, units, path, width=100, titles=None):
    """Save ``text`` with each character's background coloured by each chosen unit's
    activation (``acts``: (len(text), H)), one panel per unit, and return ``path``.

    Each panel has its own colour key: a unit's colours span its own range over the
    passage (a diverging, colour-blind-safe map: blue lowest, red highest), so a unit that
    moves only a little still shows where it moves. Lines break at newlines and between
    words, never inside one.
    """
    from matplotlib.figure import Figure

    lines = wrap_words(text, width)
    rows, cols = len(lines), max(1, max((len(line) for line in lines), default=1))
    panel = 0.16 * rows + 0.55
    fig = Figure(figsize=(0.085 * cols + 1.3, panel * len(units)), layout="constrained")
    axes = fig.subplots(len(units), 1, squeeze=False)[:, 0]
    for k, (ax, unit) in enumerate(zip(axes, units)):
        grid = np.full((rows, cols), np.nan)
        for r, line in enumerate(lines):
            for c, (t, _) in enumerate(line):
                grid[r, c] = acts[t, unit]
        low, high = float(np.nanmin(grid)), float(np.nanmax(grid))
        image = ax.imshow(grid, cmap="RdBu_r", vmin=low, vmax=max(high, low + 1e-12),
                          aspect="auto", interpolation="nearest")
        for r, line in enumerate(lines):
            for c, (_, ch) in enumerate(line):
                if ch.strip():
                    ax.text(c, r, ch, ha="center", va="center", family="monospace", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(titles[k] if titles else f"unit {unit}", fontsize=9, loc="left")
        key = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01, aspect=12)
        key.set_ticks([low, high])
        key.set_ticklabels([f"{low:.2f}", f"{high:.2f}"])
        key.ax.tick_params(labelsize=7)
        key.set_label("value", fontsize=7)
    fig.savefig(path, dpi=110)
    return path


def wrap_words(text, width):
    """Lines of (index into text, char) of at most ``width`` characters, cut at newlines
    and at the last space before the limit (a word longer than a line is cut)."""
    lines = []
    for start, part in _paragraphs(text):
        line = []
        for t, ch in enumerate(part, start):
            line.append((t, ch))
            if len(line) > width:
                space = max((k for k, (_, c) in enumerate(line) if c == " "), default=width - 1)
                lines.append(line[:space + 1])
                line = line[space + 1:]
        lines.append(line)
    return lines


def _paragraphs(text):
    """(start index, text) of each newline-separated part."""
    start = 0
    for part in text.split("\n"):
        yield start, part
        start += len(part) + 1
