"""Exercises with a checker: write a piece of a recurrent network yourself, then compare it
with the library's own, values *and* gradients, on random float64 inputs::

    from minigrad import exercises

    def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
        ...                                   # your code, with minigrad ops

    exercises.check("lstm_cell", lstm_cell)   # ✓, or the first wrong element and both values

``exercises.list_exercises()`` (or ``python -m minigrad.exercises``) lists them; each
tutorial on RNNs, BPTT, LSTM/GRU and the char-LM has its exercise cells. A wrong answer
raises ``ExerciseFailed`` (an ``AssertionError``) naming the output or gradient, the index
of the first wrong element, your value and the expected one — the report ``gradcheck``
gives. A function that still raises ``NotImplementedError`` is reported as not done yet.
"""
from .checker import ExerciseFailed, check, list_exercises
from .registry import EXERCISES

__all__ = ["EXERCISES", "ExerciseFailed", "check", "list_exercises"]
