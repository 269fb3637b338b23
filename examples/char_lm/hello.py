"""The lecture's toy: a character-level RNN that learns to spell "hello".

Vocabulary [h, e, l, o], one-hot inputs, a hidden state of 3 numbers::

    input   h     e     l     l
    target  e     l     l     o

    h_t = tanh(W_hh h_{t-1} + W_xh x_t)     (nn.RNN: weight_hh_l0, weight_ih_l0)
    y_t = W_hy h_t                          (nn.Linear: head.weight)

The two "l" inputs need different answers ("l" then "o"), so the model must use h_{t-1}:
this is the smallest task where the recurrence matters. Training stops as soon as greedy
sampling from "h" spells "hello".
"""
from __future__ import annotations

import numpy as np

import minigrad
import nn
import nn.functional as F

from .data import Vocab
from .model import CELLS

WORD = "hello"


class HelloRNN(nn.Module):
    """One-hot characters -> one recurrent layer -> a score per character."""

    def __init__(self, vocab_size=4, hidden_size=3, cell="rnn"):
        super().__init__()
        self.rnn = getattr(nn, CELLS[cell])(vocab_size, hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):              # x: one-hot (T, 1, V)
        out, state = self.rnn(x, state)            # (T, 1, H)
        T = out.shape[0]
        return self.head(out.reshape(T, out.shape[2])), state    # (T, V)


def one_hot(ids, size):
    """(T,) ids -> float32 tensor (T, 1, size), the lecture's x_t vectors."""
    eye = np.eye(size, dtype=np.float32)
    x = minigrad.tensor(eye[np.asarray(ids)][:, None, :])
    x.name = "x"
    return x


def spell(model, vocab, first="h", n=len(WORD) - 1):
    """Greedy generation: feed ``first``, then each predicted character back in."""
    with minigrad.no_grad():
        ids, state = [vocab.index[first]], None
        for _ in range(n):
            logits, state = model(one_hot(ids[-1:], len(vocab)), state)
            ids.append(int(np.argmax(logits.numpy()[-1])))
    return vocab.decode(ids)


def hello_loss(model, vocab):
    """Mean cross-entropy of predicting "ello" from "hell" (a fresh graph each call)."""
    ids = vocab.encode(WORD)
    logits, _ = model(one_hot(ids[:-1], len(vocab)))
    loss = F.cross_entropy(logits, minigrad.tensor(ids[1:]))
    loss.name = "loss"
    return loss


def train_hello(cell="rnn", hidden_size=3, lr=0.1, max_steps=2000):
    """Train until the model spells "hello"; returns (model, vocab, losses, spelled)."""
    vocab = Vocab.from_chars("helo")
    model = HelloRNN(len(vocab), hidden_size, cell)
    optimizer = minigrad.optim.Adam(model.parameters(), lr=lr)
    losses, spelled = [], spell(model, vocab)
    while spelled != WORD and len(losses) < max_steps:
        loss = hello_loss(model, vocab)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        spelled = spell(model, vocab)
    return model, vocab, losses, spelled
