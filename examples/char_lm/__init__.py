"""Helper modules for ``examples/char_lm.py`` (the character-level language model).

- ``data``: the corpus, the character vocabulary, the train/validation split and the
  parallel streams that truncated backpropagation through time walks along.
- ``model``: embedding -> RNN/LSTM/GRU -> linear head, one logit vector per character.
- ``sampling``: drawing text from the model, one character at a time.
- ``hello``: the lecture's toy, "hello" over the vocabulary [h, e, l, o].
- ``interpretable_units``: searching for hidden units that track quotes, brackets and the
  position in a line (the lecture's "interpretable cells").
- ``training``: one optimizer step, the learning-rate schedule, the validation loss and
  the state a checkpoint carries (``TrainingRun``).
- ``pictures``: the unrolled graph and the gradient flow, drawn with ``minigrad.viz``.
"""
