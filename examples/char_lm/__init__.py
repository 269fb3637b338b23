"""Helper modules for ``examples/char_lm.py`` (the character-level language model).

- ``data``: the corpus, the character vocabulary, the train/validation split and the
  parallel streams that truncated backpropagation through time walks along.
- ``model``: embedding -> RNN/LSTM/GRU -> linear head, one logit vector per character.
- ``sampling``: drawing text from the model, one character at a time.
- ``hello``: the lecture's toy, "hello" over the vocabulary [h, e, l, o].
- ``cells``: searching for interpretable hidden units (quotes, brackets, line position).
- ``pictures``: the unrolled graph and the gradient flow, drawn with ``minigrad.viz``.
"""
