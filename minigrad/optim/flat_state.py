"""An optimizer group's state arrays laid end to end (``FlatState``), so that a step of a
small model is a handful of array operations per group, not a handful per parameter.

A char-LM at min-char-rnn's size has 7 parameters; Adam one parameter at a time is about
13 NumPy calls each, and most of the step is the cost of those calls, not arithmetic. Adam
and SGD with momentum (``optimizers.py``) keep ``m``, ``v`` (or the momentum buffer) of a group
in flat arrays and run the operations that need no gradient once per piece of them.
"""
from __future__ import annotations

import numbers

from .. import backend

_HOST_ARRAY = backend.NUMPY.array_type     # numpy.ndarray: the "cpu" device's arrays


def _no_flat_state():
    return None


_PIECE_BYTES = 512 * 1024    # a piece's state runs, scratch, p and g stay in a core's cache


class FlatState:
    """A group's per-parameter state arrays (Adam's ``m`` and ``v``, SGD's momentum) laid
    end to end in flat arrays, with a flat scratch array beside them.

    ``state[id(p)]["exp_avg"]`` is the view ``m[offset:offset + p.size].reshape(p.shape)``,
    so ``state_dict`` and a one-by-one step see and change the same numbers. The updates
    are elementwise: run over the flat arrays, every element meets the same operations with
    the same constants in the same order as one parameter at a time, so the result is
    identical to the bit, in a handful of array operations for many small parameters instead
    of a handful each (most of a small model's step is the cost of calling NumPy).

    On the host the flat range is cut into pieces of about ``_PIECE_BYTES`` per array, big
    parameters too (through their flat view), so the passes over a piece find its arrays in
    cache; on a GPU the whole group is one piece (one kernel per operation).
    """

    __slots__ = ("xp", "names", "params", "arrays", "owns_all", "named_views",
                 "pieces", "cut")

    def __init__(self, params, states, names, xp):
        self.xp, self.names, self.params = xp, tuple(names), list(params)
        self.arrays = [p.array for p in self.params]
        first, total = self.arrays[0], sum(a.size for a in self.arrays)
        flats = [xp.zeros_like(first, shape=(total,)) for _ in names]
        self.named_views, offset = [], 0      # per parameter: ((name, view), ...)
        for a, state in zip(self.arrays, states):
            views = tuple(flat[offset:offset + a.size].reshape(a.shape) for flat in flats)
            for name, view in zip(names, views):
                if name in state:
                    view[...] = state[name]            # carry on from the saved state
            self.named_views.append(tuple(zip(names, views)))
            offset += a.size
        limit = _PIECE_BYTES // first.itemsize if type(first) is _HOST_ARRAY else total
        self.pieces = _pieces(self.arrays, flats, xp.zeros_like(first, shape=(total,)),
                              max(limit, 1))
        cut = [False] * len(self.arrays)
        for _, _, parts in self.pieces:
            for i, start, *_ in parts:
                cut[i] = cut[i] or start is not None
        self.cut = cut if any(cut) else None
        # no two parameters share memory: decaying all before stepping any changes nothing
        self.owns_all = all(a.base is None for a in self.arrays) and \
            len({id(a) for a in self.arrays}) == len(self.arrays)

    def __reduce__(self):
        """A copy of the optimizer holds copies of the views, not views: it lays them out anew."""
        return (_no_flat_state, ())

    def cut_views(self, grads):
        """The gradients, a cut parameter's as its flat view (what its parts slice)."""
        if self.cut is None:
            return grads
        return [g.reshape(-1) if cut else g for g, cut in zip(grads, self.cut)]

    @classmethod
    def laid_out(cls, items, group, state, names, counts_steps):
        """A new layout for the group, its states pointed at the views; None where the group
        cannot step as one: a parameter without a gradient, mixed dtypes or devices, a state
        array missing (SGD's buffer is its first gradient) or parameters at different steps."""
        params = group["params"]
        if len(items) != len(params):
            return None
        first = params[0].array
        kind, dtype = type(first), first.dtype
        if any(type(p.array) is not kind or p.array.dtype != dtype for p in params):
            return None
        if kind is not _HOST_ARRAY and len({backend.device_of(p.array) for p in params}) > 1:
            return None
        states = [state.get(id(p)) or {} for p in params]
        fresh = counts_steps and not any(states)      # Adam's first step starts from zeros
        if not fresh and not all(_state_fits(s, p.array, names, counts_steps)
                                 for s, p in zip(states, params)):
            return None
        if counts_steps and len({s.get("step", 0) for s in states}) != 1:
            return None
        flat = cls(params, states, names, backend.get_array_module(first))
        for p, s, named_views in zip(params, states, flat.named_views):
            s = state[id(p)] = dict(s, **dict(named_views))
            if counts_steps:
                s.setdefault("step", 0)
        return flat

    def states_if_current(self, items, state):
        """The parameters' state dicts when the layout still describes them (the same
        parameters and arrays, the views still their state, one step count), else None."""
        if len(items) != len(self.params):
            return None
        states = []
        for (p, _), q, a, named_views in zip(items, self.params, self.arrays, self.named_views):
            s = state.get(id(p))
            if p is not q or p.array is not a or s is None:
                return None
            for name, view in named_views:
                if s.get(name) is not view:
                    return None
            states.append(s)
        if "step" in states[0]:
            step = states[0]["step"]
            for s in states:
                if s["step"] != step:
                    return None
        return states


def _pieces(arrays, flats, scratch, limit):
    """The flat range cut into runs of ``limit`` elements: ``[(state runs, scratch run,
    parts)]``, a part ``(i, start, stop, scratch part, parameter part, state parts)`` naming
    parameter ``i``'s elements in the run (``start`` None: the whole parameter, in its own
    shape). Only a C-contiguous parameter is cut, through its flat view; others stay whole."""
    pieces, parts, lo, offset = [], [], 0, 0

    def close(hi):
        nonlocal lo, parts
        pieces.append((tuple(f[lo:hi] for f in flats), scratch[lo:hi], parts))
        lo, parts = hi, []

    def add_part(i, start, stop, whole):
        a = arrays[i]
        shape = a.shape if whole else (stop - start,)
        s_part, *state_parts = (f[offset + start:offset + stop].reshape(shape)
                                for f in (scratch, *flats))
        p_part = a if whole else a.reshape(-1)[start:stop]
        parts.append((i, None if whole else start, stop, s_part, p_part, tuple(state_parts)))

    for i, a in enumerate(arrays):
        size = a.size
        if size <= limit - (offset - lo) or not a.flags.c_contiguous:
            add_part(i, 0, size, whole=True)
        else:
            start = 0
            while start < size:
                stop = min(size, start + limit - (offset + start - lo))
                add_part(i, start, stop, whole=False)
                start = stop
                if offset + stop - lo >= limit:
                    close(offset + stop)
        offset += size
        if offset - lo >= limit:
            close(offset)
    if parts:
        close(offset)
    return pieces


def _state_fits(state, array, names, counts_steps):
    """A state whose arrays can be copied into the views of ``array``."""
    if counts_steps and not isinstance(state.get("step"), numbers.Real):
        return False
    return all(type(state.get(name)) is type(array) and state[name].shape == array.shape and
               state[name].dtype == array.dtype for name in names)
