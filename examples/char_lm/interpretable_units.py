"""Searching for interpretable units: the lecture's "interpretable cells" (after Karpathy,
Johnson & Fei-Fei 2015), hidden units whose activation follows the text's structure.

Run the trained model over a passage, keep one activation per hidden unit per character,
and ask which units follow something a person can name:

- ``in_quote``: 1 between an opening and a closing double quote;
- ``bracket_depth``: how many (, [ or { are open;
- ``line_position``: how many characters since the last newline;
- ``indented``: 1 on lines that start with a space (code examples in the corpus).

For each feature the search ranks the units by the absolute Pearson correlation
r = cov(a_j, f) / (std(a_j) std(f)) between unit j's activation a_j and the feature f.
The picture colours each character of the passage by one unit's value, as in the lecture.
"""
from __future__ import annotations

import numpy as np

import minigrad

from .pictures import plot_units  # noqa: F401  (the picture lives with the other pictures)

FEATURES = ("in_quote", "bracket_depth", "line_position", "indented")
_OPEN, _CLOSE = "([{", ")]}"


def text_features(text):
    """A dict feature name -> float array (len(text),): the feature's value after reading
    each character (what the hidden state at that character can know)."""
    quote = depth = column = 0
    indented = False
    values = {name: np.zeros(len(text)) for name in FEATURES}
    for t, ch in enumerate(text):
        if ch == '"':
            quote = 1 - quote
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if ch == "\n":
            column, indented = 0, False
        else:
            if column == 0:
                indented = ch == " "
            column += 1
        values["in_quote"][t] = quote
        values["bracket_depth"][t] = depth
        values["line_position"][t] = column
        values["indented"][t] = indented
    return values


def activations(model, vocab, text, device="cpu"):
    """(len(text), H) host array: the top layer's per-character state (``model.top_states``:
    the LSTM's cell state c_t, unsquashed, where counters such as line position live;
    h_t for RNN and GRU) while the model reads ``text`` from a zero state."""
    was_training = model.training
    model.eval()
    with minigrad.no_grad():
        x = minigrad.tensor(vocab.encode(text)[:, None], device=device)     # (T, 1)
        model(x)
        states = [s.numpy()[0] for s in model.top_states()]
    model.train(was_training)
    return np.stack(states)


def correlations(acts, feature):
    """(H,) Pearson correlation of each unit (column of ``acts``) with ``feature``; 0 where
    either is constant."""
    a = acts - acts.mean(axis=0)
    f = feature - feature.mean()
    denom = np.sqrt((a * a).sum(axis=0) * (f * f).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * f[:, None]).sum(axis=0) / denom
    return np.where(denom > 0, r, 0.0)


def search(acts, text, top=3, skip=0):
    """For each feature, the ``top`` units by |r|: dict name -> list of (unit, r); features
    that never change in the passage (no quotes in Shakespeare) are left out.

    ``skip`` leaves out the first characters, while the state is still warming up.
    """
    feats = text_features(text)
    found = {}
    for name in FEATURES:
        if np.ptp(feats[name][skip:]) == 0:
            continue
        r = correlations(acts[skip:], feats[name][skip:])
        best = np.argsort(-np.abs(r), kind="stable")[:top]
        found[name] = [(int(j), float(r[j])) for j in best]
    return found


def pick_window(text, length=600):
    """Start of the ``length``-character window, beginning at a line start, with the most
    quotes and brackets: the passage where the features change most, for the picture."""
    marks = np.cumsum([0] + [ch in '"()[]{}' for ch in text])
    starts = [0] + [t + 1 for t, ch in enumerate(text[:-length]) if ch == "\n"]
    return max(starts, key=lambda s: marks[min(len(text), s + length)] - marks[s])


def find_and_draw(model, vocab, passage, path, device="cpu", skip=50, window=600):
    """The whole search: activations over ``passage``, the top 3 units per feature, and a
    picture of the best unit of each feature over the passage's most quote- and bracket-
    rich ``window`` characters. Returns (found, path)."""
    acts = activations(model, vocab, passage, device)                 # (len(passage), H)
    found = search(acts, passage, top=3, skip=skip)
    units = [best[0][0] for best in found.values()]
    titles = [f"unit {best[0][0]}: best match for {name} (r={best[0][1]:+.2f})"
              for name, best in found.items()]
    start = pick_window(passage[skip:], window) + skip
    end = start + window
    if end < len(passage) and not passage[end].isspace():   # end the picture on a whole word
        end = start + max(passage.rfind(" ", start, end) - start, window // 2)
    plot_units(passage[start:end], acts[start:end], units, path, titles=titles)
    return found, path
