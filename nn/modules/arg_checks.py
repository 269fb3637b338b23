"""Constructor argument checks: a bad size, stride or probability raises at the layer's
construction, naming the layer, the argument, its value and what was expected."""
from __future__ import annotations

import numbers


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    """A real number: Python's or NumPy's scalars (``np.float32(1e-3)``), never a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive_int(owner, name, value, minimum=1):
    """``value`` if it is an int >= ``minimum`` (1: a size; 0: a padding)."""
    if not _is_int(value) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{owner}: {name} must be {what}, got {name}={value!r}")
    return value


def int_pair(owner, name, value, minimum=1):
    """An int or a pair of ints, each >= ``minimum``, as a pair."""
    pair = (value, value) if _is_int(value) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or \
            not all(_is_int(v) and v >= minimum for v in pair):
        what = "positive integers" if minimum == 1 else f"integers >= {minimum}"
        raise ValueError(f"{owner}: {name} must be an int or a pair of {what}, got "
                         f"{name}={value!r}")
    return tuple(pair)


def probability(owner, name, value):
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{owner}: {name} must be a probability in [0, 1], got {name}={value!r}")
    return float(value)


def positive_number(owner, name, value):
    if not _is_number(value) or not value > 0:
        raise ValueError(f"{owner}: {name} must be a positive number, got {name}={value!r}")
    return float(value)
