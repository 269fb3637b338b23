"""Text in, integer batches out.

A character-level language model reads text one character at a time and predicts the
next one. This module turns a text into the arrays training needs:

1. ``load_text``: the built-in corpus (the English prose of Python's own documentation,
   ``pydoc_data.topics``, which every Python install carries) or any UTF-8 file.
2. ``Vocab``: the sorted set of characters in the text; character <-> integer id.
3. ``split``: a fixed train/validation split, the last 10% for validation.
4. ``Streams``: truncated backpropagation through time. The text is cut into ``B``
   parallel streams (rows); each step takes the next ``T`` characters of every row::

       text  = a b c d e f g h i j k l m n o p q r s t u v w x      (B = 3, T = 3)
       rows  = [a b c d e f g h]   chunk 0: x = a b c   y = b c d
               [i j k l m n o p]   chunk 1: x = d e f   y = e f g
               [q r s t u v w x]

   Row ``b`` of chunk ``k+1`` continues row ``b`` of chunk ``k``, so the hidden state left
   by one chunk is the right starting state for the next (carried, and detached so the
   gradient stops at the chunk boundary: the lecture's "train on sub-sequences").
   Epoch ``e`` starts ``e mod T`` characters into the rows, so the chunk boundaries fall
   elsewhere on each pass through the text (the model cannot memorize fixed chunks).
"""
from __future__ import annotations

import numpy as np


def load_text(path=None):
    """The training text: ``path`` read as UTF-8, or the built-in corpus when ``path`` is None.

    The built-in corpus is ``pydoc_data.topics`` (the help pages behind ``help("if")``):
    about 465,000 characters of English prose with code examples, no download needed.
    """
    if path is None:
        from pydoc_data.topics import topics
        return "\n".join(topics[key] for key in sorted(topics))
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError as e:
        raise ValueError(f"--data {path!r} is not UTF-8 text ({e})") from None


class Vocab:
    """The characters of a text, sorted; ``encode`` maps text to ids, ``decode`` back.

    ``Vocab.from_codes(vocab.codes())`` rebuilds the same vocabulary from the integer
    array stored in a checkpoint (Unicode code points: no pickle needed).
    """

    def __init__(self, text):
        self.chars = sorted(set(text))
        if not self.chars:
            raise ValueError("cannot build a vocabulary from empty text")
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_chars(cls, chars):
        """A vocabulary in the given order (the lecture's [h, e, l, o]); no repeats."""
        chars = list(chars)
        if len(set(chars)) != len(chars):
            raise ValueError(f"repeated characters in vocabulary {chars}")
        vocab = cls(chars)
        vocab.chars = chars
        vocab.index = {c: i for i, c in enumerate(chars)}
        return vocab

    def __len__(self):
        return len(self.chars)

    def __eq__(self, other):
        return isinstance(other, Vocab) and self.chars == other.chars

    def __repr__(self):
        return f"Vocab({len(self)} characters: {''.join(self.chars)[:40]!r}...)"

    def encode(self, text):
        """``text`` -> int64 array of ids; raises KeyError naming an unknown character."""
        try:
            return np.array([self.index[c] for c in text], dtype=np.int64)
        except KeyError as e:
            raise KeyError(f"character {e.args[0]!r} is not in the vocabulary "
                           f"({len(self)} characters)") from None

    def decode(self, ids):
        """ids (any iterable of ints) -> text."""
        return "".join(self.chars[int(i)] for i in ids)

    def codes(self):
        """The vocabulary as an int64 array of code points, for checkpoints."""
        return np.array([ord(c) for c in self.chars], dtype=np.int64)

    @classmethod
    def from_codes(cls, codes):
        return cls.from_chars(chr(int(c)) for c in np.asarray(codes).reshape(-1))


def split(ids, val_fraction=0.1):
    """(train, val): the first 90% and the last 10% of ``ids`` (a fixed, contiguous split)."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    n_val = max(2, int(round(len(ids) * val_fraction)))
    if len(ids) - n_val < 2:
        raise ValueError(f"text of {len(ids)} characters is too short to split")
    return ids[:-n_val], ids[-n_val:]


class Streams:
    """``batch_size`` parallel streams over ``ids``, read ``seq_len`` characters at a time.

    ``next()`` returns ``(x, y, reset)``: ``x`` and ``y`` are int64 arrays of shape
    ``(T, B)`` (time first, as ``nn.LSTM`` expects) with ``y[t] = x[t + 1]`` along each
    stream; ``reset`` is True for the first chunk of every epoch, the moment the carried
    hidden state must start again from zeros.

    The position (``state_dict``) is two integers, so a checkpoint can restore it exactly.
    """

    def __init__(self, ids, batch_size, seq_len):
        ids = np.asarray(ids, dtype=np.int64)
        length = len(ids) // batch_size
        if length < seq_len + 1:
            raise ValueError(f"{len(ids)} characters cut into {batch_size} streams give "
                             f"{length} per stream, fewer than seq_len + 1 = {seq_len + 1}; "
                             "use a smaller --batch-size or --seq-len, or more text")
        self.rows = ids[:length * batch_size].reshape(batch_size, length)   # (B, L)
        self.seq_len = seq_len
        self.position = 0     # index of the next chunk within the epoch
        self.epoch = 0

    def _offset(self, epoch):
        return epoch % self.seq_len if self.rows.shape[1] > 2 * self.seq_len else 0

    def chunks(self, epoch=None):
        """Chunks in epoch ``epoch`` (default: the current one)."""
        offset = self._offset(self.epoch if epoch is None else epoch)
        return (self.rows.shape[1] - 1 - offset) // self.seq_len

    def __len__(self):
        return self.chunks(0)

    def next(self):
        if self.position == self.chunks():
            self.position, self.epoch = 0, self.epoch + 1
        start = self._offset(self.epoch) + self.position * self.seq_len
        x = self.rows[:, start:start + self.seq_len].T                # (T, B)
        y = self.rows[:, start + 1:start + self.seq_len + 1].T        # (T, B)
        self.position += 1
        return np.ascontiguousarray(x), np.ascontiguousarray(y), self.position == 1

    def state_dict(self):
        return {"position": self.position, "epoch": self.epoch}

    def load_state_dict(self, state):
        position, epoch = int(state["position"]), int(state["epoch"])
        if epoch < 0 or not 0 <= position <= self.chunks(epoch):
            raise ValueError(f"stream position {position} is outside 0..{self.chunks(max(0, epoch))}"
                             " (was the checkpoint made with other data, --batch-size or --seq-len?)")
        self.position, self.epoch = position, epoch
