"""Pictures of the recurrent computation, drawn by ``minigrad.viz``.

- ``unrolled_graph``: a few characters of text through the model, the loss, and the graph
  that recorded them, in ``forward`` mode (the ops, one cluster per time step, the shared
  weights drawn once) and in ``flow`` mode (every edge sized and coloured by the norm of
  the gradient that crosses it).
- ``gradient_flow``: ||dL_T / dh_t|| for every step t of a window, where L_T is the loss at
  the window's last character: how far back a prediction's gradient reaches (it fades
  faster through a vanilla RNN than through an LSTM's cell state).
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
