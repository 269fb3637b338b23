"""``--explore``: the char-LM's backward pass as an interactive page (``explore.html``).

    python examples/char_lm.py --smoke --explore       # then open runs/char_lm/explore.html

The page (``minigrad.viz.explore``) holds:

- the graph of the last character's loss over a window of ``window`` characters, and the
  engine's real backward order through it: step through it and watch ||∂L_T/∂h_t|| arrive
  at h_T, h_{T-1}, ... h_1 (backpropagation through time) and W_hh collect one
  contribution per step;
- the gradient flow at initialization and after training, on one log axis;
- a hidden-state explorer over ``passage`` (its first ``max_text`` characters): the top
  layer's cell state c_t and hidden state h_t of every unit under each character, the
  interpretable-cells search's finds preselected; select text to rank matching units.
"""
from __future__ import annotations

import numpy as np

import minigrad

from . import pictures


def top_layer_states(model, vocab, text, device="cpu"):
    """{"c": (len(text), H), "h": (len(text), H)} (no "c" for RNN / GRU): the top layer's
    states while the model reads ``text`` from a zero state."""
    was_training = model.training
    model.eval()
    with minigrad.no_grad():
        model(minigrad.tensor(vocab.encode(text)[:, None], device=device))
        states = {"h": np.stack([h.numpy()[0] for h in model.rnn.hidden_states])}
        if model.cell == "lstm":
            states = {"c": np.stack([c.numpy()[0] for c in model.rnn.cell_states]), **states}
    model.train(was_training)
    return states


def write(model, vocab, ids, passage, path, device="cpu", found=None, flows=None,
          window=50, max_text=1000):
    """Write the explorer page to ``path`` and return it.

    Args:
        ids: character ids; the graph is the loss of predicting ``ids[window]`` from the
            ``window`` characters before it.
        passage: text for the hidden-state explorer.
        found: the interpretable-cells search's result ``{feature: [(unit, r), ...]}``.
        flows: ``{label: ||dL/dh_t|| per step}`` of other runs, for the comparison chart.
    """
    ids = np.asarray(ids[:window + 1])
    passage = passage[:max_text]
    activations = top_layer_states(model, vocab, passage, device)
    was_training = model.training
    model.eval()                       # no dropout: the page shows the model as it predicts
    loss = pictures.window_loss(model, ids, device, last_only=True)
    page = minigrad.viz.explore(
        loss, states=model.rnn.hidden_states, text=passage, activations=activations,
        cells=found, flows=flows, max_text=max_text,
        title=f"char-LM {model.cell.upper()}: the last character's loss through "
              f"{len(ids) - 1} steps")
    model.train(was_training)
    return page.save(path)
