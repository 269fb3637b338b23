"""The character-level language model: embedding -> recurrent layers -> linear head.

For each position t of a (T, B) block of character ids::

    e_t      = E[x_t]                        (B, emb)   the character's learned vector
    h_t      = RNN(e_t, h_{t-1})             (B, H)     nn.RNN / nn.LSTM / nn.GRU, unrolled
    logits_t = h_t W_hy^T + b_y              (B, V)     a score for every next character
    loss     = mean_t,b -log softmax(logits_t)[y_t]     nats per character

(The lecture's h_t = tanh(W_hh h_{t-1} + W_xh x_t) with one-hot x_t is the same thing:
multiplying W_xh by a one-hot vector picks one column, which is what the embedding does.)
"""
from __future__ import annotations

import nn

CELLS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


class CharRNN(nn.Module):
    """``CharRNN(vocab_size, cell="lstm", hidden_size=256, num_layers=2, embedding_dim=64,
    dropout=0.0, graph="steps")``; dropout acts between the recurrent layers and before the
    head; ``graph`` goes to the recurrent layer ("gates" | "steps" | "layer", see
    ``nn.recorded_as``).

    ``forward(x, state=None) -> (logits, state)``: ``x`` int64 (T, B), ``logits`` (T, B, V);
    ``state`` is what the recurrent layer returns (``h`` (L, B, H), or ``(h, c)`` for the
    LSTM) and what the next call continues from.
    """

    def __init__(self, vocab_size, cell="lstm", hidden_size=256, num_layers=2, embedding_dim=64,
                 dropout=0.0, graph="steps"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(CELLS)}")
        self.cell = cell
        self.embed = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = getattr(nn, CELLS[cell])(embedding_dim, hidden_size, num_layers,
                                            dropout=dropout if num_layers > 1 else 0.0,
                                            graph=graph)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        T, B = x.shape
        e = self.embed(x)                                    # (T, B, emb)
        out, state = self.rnn(e, state)                      # (T, B, H)
        out = self.drop(out)                                 # (training only)
        logits = self.head(out.reshape(T * B, out.shape[2]))  # (T*B, V)
        return logits.reshape(T, B, logits.shape[1]), state

    def top_states(self):
        """The top layer's per-step states from the last forward call: the LSTM's cell
        states ``c_t`` (the "cells" of the interpretable-cells search) or the hidden states
        ``h_t`` for RNN and GRU; a list of T tensors (B, H)."""
        if self.cell == "lstm":
            return self.rnn.cell_states
        return self.rnn.hidden_states
