"""``captioning.py --explore``: one caption's backward pass and attention as a page.

The page (``minigrad.viz.explore``) holds the graph of the loss of one image's generated
caption, fed back with teacher forcing (CNN encoder, then one decoder step per word, each
tagged with its time step), the engine's backward order through it with ||∂L/∂h_t|| per
word, and the attention panel: for every generated word the weights p_i over the image's
feature grid, drawn over the image.
"""
from __future__ import annotations

import numpy as np

import minigrad
import nn.functional as F

from .models import to_input


def caption_loss(model, image, word_ids, device="cpu"):
    """(loss, hidden states h_t) of predicting word_ids[1:] from word_ids[:-1] for one image
    (teacher forcing, as in training), each decoder step in its own graph_scope(step=t)."""
    x = to_input(image[None], device)
    ids = np.asarray(word_ids, np.int64)
    with minigrad.graph_scope(step=None):
        v, keys, state = model.start(x)
    tops, states = [], []
    for t in range(len(ids) - 1):
        with minigrad.graph_scope(step=t):
            word = model.embed(minigrad.tensor(ids[t:t + 1], device=device))
            top, state, _ = model.step(v, keys, state, word)
        tops.append(top)
        states.append(state[0] if isinstance(state, tuple) else state)
    scores = model.out(minigrad.cat(tops, dim=0))                         # (T, V)
    loss = F.cross_entropy(scores, minigrad.tensor(ids[1:], device=device))
    loss.name = "loss"
    return loss, states


def write(model, vocab, image, caption, alphas, path, device="cpu"):
    """Write the page for one image and its generated ``caption`` (words) with attention
    ``alphas`` ((words, L) from ``model.generate``); returns ``path``."""
    words = caption.split() + ["<END>"]
    ids = vocab.encode(caption)                          # <START> words <END>
    was_training = model.training
    model.eval()
    loss, states = caption_loss(model, image, ids, device)
    attention = None
    if alphas is not None:
        side = int(round(np.sqrt(alphas.shape[-1])))
        n = min(len(words), len(alphas))
        attention = {"words": words[:n], "maps": np.asarray(alphas[:n]).reshape(n, side, side),
                     "image": image}
    page = minigrad.viz.explore(loss, states=states, attention=attention,
                                title=f"captioning: \u201c{caption}\u201d")
    model.train(was_training)
    return page.save(path)
