"""``Function``: one node of the recorded graph, with its forward and backward.

Calling a Function on tensors runs ``forward`` on their arrays and, when any input
requires a gradient, records the node on the outputs (``output.grad_fn``)::

    y = Tanh()(x)          # or Tanh.apply(x): y.array == tanh(x.array), y.grad_fn is the node

The node keeps only what its backward needs:

- ``parents``: one entry per input, ``(node, output_index)`` for an input made by
  another node, ``(leaf_tensor, -1)`` for a leaf that requires grad, ``None`` otherwise.
  It points at nodes, not at the intermediate tensors, so a tensor nobody needs is freed.
- the arrays saved with ``save_for_backward`` (freed after ``backward`` unless
  ``retain_graph=True``), given back as Tensors by ``saved_tensors``.

Writing your own op::

    class Cube(minigrad.Function):
        label = "x³"
        def forward(self, x):             # arrays in, array out
            self.save_for_backward(x)
            return x ** 3
        def backward(self, gy):           # Tensors in, Tensors out
            x, = self.saved_tensors
            return gy * 3 * x ** 2

    y = Cube.apply(x)
    minigrad.gradcheck(Cube.apply, [x64])

``backward`` is written with Tensor operations, so with ``create_graph=True`` the
gradient is itself a recorded graph and can be differentiated again.
"""
from __future__ import annotations

import weakref

from . import backend
from .backend import _BY_TYPE as _ARRAY_CLASSES  # exact array classes (kept up to date by backend)
from .grad_mode import STATE

_new_tensor = object.__new__
_weak_ref = weakref.ref   # one global lookup in _call1, not a global and an attribute
_INPUT, _OUTPUT, _OTHER = "input", "output", "other"   # kinds of saved entry (compared by identity)


class Function:
    """Base class of every operation. Subclasses define ``forward`` and ``backward``."""

    label = None  # short text for graph pictures ("+", "matmul", "tanh"); defaults to the class name

    # Set by __call__ when the graph is recorded:
    parents = None        # tuple, one entry per input (see module docstring)
    out_shapes = None     # shape of each output, for error messages and pictures
    scope = None          # (module_path, time_step) that was active when the node was made
    _saved = ()
    _saved_entries = None
    _released = False
    _retained = None      # {output_index: weakref to a tensor that called retain_grad()}
    _names = None         # {output_index: name of that output tensor}
    n_outputs = 1
    _segment = None       # an UnrolledSegment (ops/rnn_unrolled.py): the step may run as part of it
    # True on a built-in op whose backward, when no graph of the gradient is recorded, hands
    # back only arrays it has just made, each to one input, kept nowhere else: the engine
    # may then make such a gradient a leaf's ``.grad`` without copying it
    new_grads = False

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Make the node and call it: ``Op.apply(x, y)`` == ``Op()(x, y)``."""
        return cls(**kwargs)(*inputs)

    # -- the recording --------------------------------------------------------
    def __call__(self, *inputs):
        # One pass over the inputs: their arrays, and (when recording) each one's parent.
        recording = STATE.grad_enabled
        requires_grad = False
        array_type = None
        arrays, parents = [], []
        for x in inputs:
            if isinstance(x, Tensor):
                data = x.array
                arrays.append(data)
                if type(data) is not array_type:
                    if array_type is not None:
                        _raise_device_mismatch(self, inputs)
                    array_type = type(data)
                if recording and x.requires_grad:
                    requires_grad = True
                    fn = x.grad_fn
                    parents.append((x, -1) if fn is None else (fn, x._out_idx))
                    continue
            else:
                arrays.append(x)
            parents.append(None)

        try:
            outputs = self.forward(*arrays)
        except (ValueError, IndexError, TypeError) as error:
            _reraise_named(self, error)
        if type(outputs) not in _ARRAY_CLASSES:  # a tuple, or a scalar for a 0-d result
            return self._outputs(inputs, arrays, outputs, tuple(parents), requires_grad)
        y = self._single_output(outputs, requires_grad, tuple(parents))
        if requires_grad and self._saved:
            self._link_saved(inputs, (outputs,), (y,))
        return y

    def _single_output(self, y, record, parents):
        """The Tensor of a one-output op's array ``y`` (``Tensor._make`` inlined); when
        ``record``, the node is recorded on it with these ``parents``. (``_call1`` and
        ``_call2``, which run once per op, do the same written out.)"""
        t = _new_tensor(Tensor)
        t.array = y
        t.grad = t._vc = t._name = None
        t._out_idx = 0
        if not record:
            t.grad_fn = None
            t.requires_grad = False
            return t
        t.grad_fn = self
        t.requires_grad = True
        self.parents, self.scope, self.out_shapes = parents, STATE.scope, (y.shape,)
        return t

    def _call1(self, x):
        """``self(x)`` for one Tensor ``x`` (the unary ops' path): the same, unrolled."""
        a = x.array
        state = STATE.__dict__  # this thread's modes as a dict: one thread-local lookup for two
        record = x.requires_grad and state["grad_enabled"]
        try:
            y = self.forward(a)
        except (ValueError, IndexError, TypeError) as error:
            _reraise_named(self, error)
        parents = None
        if record:
            fn = x.grad_fn
            parents = ((x, -1) if fn is None else (fn, x._out_idx),)
        if y.__class__ is not a.__class__:  # a tuple, or a scalar for a 0-d result
            return self._outputs((x,), [a], y, parents or (None,), record)
        t = _new_tensor(Tensor)   # self._single_output(y, record, parents), inlined
        t.array = y
        t.grad = t._vc = t._name = None
        t._out_idx = 0
        if not record:
            t.grad_fn = None
            t.requires_grad = False
            return t
        t.grad_fn = self
        t.requires_grad = True
        self.parents, self.scope, self.out_shapes = parents, state["scope"], (y.shape,)
        saved = self._saved
        if saved:
            if len(saved) == 1 and saved[0] is y and y is not a:  # exp, tanh, sigmoid: the output
                self._saved_entries = ((_OUTPUT, 0, _weak_ref(t), y),)
            else:
                self._link_saved((x,), (y,), (t,))
        return t

    def _call2(self, x0, x1):
        """``self(x0, x1)`` for two Tensors (the binary operators' path): the same, unrolled."""
        a0, a1 = x0.array, x1.array
        if a0.__class__ is not a1.__class__:  # arrays on two devices: the general path says so
            return self(x0, x1)
        state = STATE.__dict__  # this thread's modes as a dict: one thread-local lookup for two
        record = (x0.requires_grad or x1.requires_grad) and state["grad_enabled"]
        try:
            y = self.forward(a0, a1)
        except (ValueError, IndexError, TypeError) as error:
            _reraise_named(self, error)
        parents = None
        if record:
            p0 = p1 = None
            if x0.requires_grad:
                fn = x0.grad_fn
                p0 = (x0, -1) if fn is None else (fn, x0._out_idx)
            if x1.requires_grad:
                fn = x1.grad_fn
                p1 = (x1, -1) if fn is None else (fn, x1._out_idx)
            parents = (p0, p1)
        if y.__class__ is not a0.__class__:  # a tuple, or a scalar for a 0-d result
            return self._outputs((x0, x1), [a0, a1], y, parents or (None, None), record)
        t = _new_tensor(Tensor)   # self._single_output(y, record, parents), inlined
        t.array = y
        t.grad = t._vc = t._name = None
        t._out_idx = 0
        if not record:
            t.grad_fn = None
            t.requires_grad = False
            return t
        t.grad_fn = self
        t.requires_grad = True
        self.parents, self.scope, self.out_shapes = parents, state["scope"], (y.shape,)
        saved = self._saved
        if saved:
            if len(saved) == 2 and saved[0] is a0 and saved[1] is a1 and a0 is not a1:  # both inputs
                v0, v1 = x0._vc, x1._vc
                self._saved_entries = ((_INPUT, x0, 0 if v0 is None else v0[0]),
                                       (_INPUT, x1, 0 if v1 is None else v1[0]))
            else:
                self._link_saved((x0, x1), (y,), (t,))
        return t

    def _outputs(self, inputs, arrays, outputs, parents, requires_grad):
        """Outputs that are not one array: a tuple (several outputs), or what NumPy gives for
        a 0-d result (a scalar, made a 0-d array by ``_record_outputs``)."""
        if type(outputs) is tuple:
            return self._record_outputs(inputs, arrays, outputs, parents, requires_grad)
        return self._record_outputs(inputs, arrays, (outputs,), parents, requires_grad)[0]

    def _record_outputs(self, inputs, arrays, outputs, parents, requires_grad):
        """The tuple of output Tensors, and the node recorded on them when needed."""
        for y in outputs:
            if type(y) not in _ARRAY_CLASSES and not backend.is_array(y):
                outputs = self._wrap_scalars(outputs, arrays)
                break
        if not requires_grad:
            return tuple([plain(y) for y in outputs])
        self.parents = parents
        self.scope = STATE.scope
        self.n_outputs = len(outputs)
        self.out_shapes = tuple([y.shape for y in outputs])
        tensors = tuple([Tensor._make(y, self, i, True) for i, y in enumerate(outputs)])
        if self._saved:
            self._link_saved(inputs, outputs, tensors)
        return tensors

    def _wrap_scalars(self, outputs, arrays):
        """NumPy gives scalars for 0-d results: make them 0-d arrays, in the outputs and in
        what was saved for backward (so a saved output is still recognised as that output)."""
        like = next((a for a in arrays if backend.is_array(a)), None)
        wrapped = tuple(y if backend.is_array(y) else backend.wrap_scalar(y, like) for y in outputs)
        if self._saved:
            swap = {id(y): w for y, w in zip(outputs, wrapped)}
            self._saved = tuple(swap.get(id(a), a) for a in self._saved)
        return wrapped

    def name(self) -> str:
        return type(self).__name__.lower()

    # -- the public, read-only graph API (what pictures and user tools read) ---------
    @property
    def inputs(self):
        """One entry per input of the op, in order: ``(node, output_index)`` for a tensor made
        by another node, ``(leaf_tensor, -1)`` for a leaf that requires grad, ``None`` for an
        input that needs no gradient (a constant, an int index, a tensor without grad)."""
        return self.parents if self.parents is not None else ()

    @property
    def display_label(self) -> str:
        """The text a picture writes in this node's box ("matmul", "LSTM cell", "+")."""
        return str(self.label) if self.label else self.name()

    @property
    def output_names(self):
        """``{output_index: name}`` of the outputs that were given a ``.name`` (a copy)."""
        return dict(self._names) if self._names else {}

    @property
    def module_path(self):
        """The dotted module path active when the node was made ("rnn.l0", "head"), or None."""
        if self.scope is None or self.scope[0] is None:
            return None
        return self.scope[0].strip(".") or None

    @property
    def time_step(self):
        """The unrolled time step the node belongs to (an int), or None outside a time loop."""
        return None if self.scope is None else self.scope[1]

    @property
    def output_shapes(self):
        """The shape of each output, in order."""
        return tuple(self.out_shapes or ())

    @property
    def num_outputs(self) -> int:
        return self.n_outputs

    @property
    def retains_grad(self):
        """The output indices whose tensors called ``retain_grad()`` (and are still alive)."""
        if not self._retained:
            return ()
        return tuple(sorted(i for i, ref in self._retained.items() if ref() is not None))

    def _link_saved(self, inputs, outputs, tensors):
        """Map each saved array to the input Tensor or output it is, to check versions later:
        an entry is ``(_INPUT, tensor, version)``, ``(_OUTPUT, index, weakref, array)`` or
        ``(_OTHER, array)``."""
        entries = []
        for array in self._saved:
            entry = None
            if array is not None:
                for x in inputs:
                    if x.__class__ is not Tensor and not isinstance(x, Tensor):
                        continue
                    if x.array is array:
                        vc = x._vc
                        entry = (_INPUT, x, 0 if vc is None else vc[0])
                        break
                else:
                    for i, y in enumerate(outputs):
                        if y is array:
                            entry = (_OUTPUT, i, weakref.ref(tensors[i]), array)
                            break
            entries.append((_OTHER, array) if entry is None else entry)
        self._saved_entries = entries

    # -- what subclasses use --------------------------------------------------
    def forward(self, *arrays):
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *arrays)")

    def backward(self, *grads):
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, *grads)")

    def save_for_backward(self, *arrays):
        """Keep these arrays (inputs, outputs or anything else) for ``backward``."""
        self._saved = arrays

    @property
    def saved_tensors(self):
        """The saved arrays as Tensors; an input comes back as the very Tensor given,
        so a gradient computed from it (with ``create_graph=True``) stays in the graph."""
        entries = self._checked_entries()
        if entries is None:
            return tuple([plain(a) if backend.is_array(a) else a
                          for a in self._saved])
        result = []
        for entry in entries:
            kind = entry[0]
            if kind is _INPUT:
                result.append(entry[1])
            elif kind is _OUTPUT:
                result.append(Tensor._make(entry[3], self, entry[1], True))
            elif backend.is_array(entry[1]):
                result.append(plain(entry[1]))
            else:
                result.append(entry[1])
        return tuple(result)

    @property
    def saved_arrays(self):
        """The saved arrays themselves (checked as ``saved_tensors`` is, never wrapped): for a
        backward that computes on arrays, when no graph of the gradient is wanted."""
        self._checked_entries()
        return self._saved

    def _checked_entries(self):
        """The saved entries, after checking that no saved tensor was changed in place."""
        entries = self._saved_entries
        if entries is None and self._released:   # release() clears the entries: only then look
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through '{self.name()}'), "
                "but its saved arrays were freed after the first backward. "
                "Pass retain_graph=True to the first backward() if you need to do this.")
        if entries is not None:
            for entry in entries:
                kind = entry[0]
                if kind is _INPUT:
                    vc = entry[1]._vc
                    if vc is not None and vc[0] != entry[2]:
                        _raise_modified(self, entry[1], entry[2])
                elif kind is _OUTPUT:
                    alive = entry[2]()
                    if alive is not None and alive._vc is not None and alive._vc[0] != 0:
                        _raise_modified(self, alive, 0)
        return entries

    @property
    def needs_input_grad(self):
        """One bool per input: does backward need to compute its gradient?"""
        return tuple(p is not None for p in self.parents)

    def release(self):
        """Free the saved arrays (called by backward unless ``retain_graph=True``)."""
        self._saved = ()
        self._saved_entries = None
        self._released = True

    def __repr__(self):
        return f"<{type(self).__name__} node>"


def _reraise_named(fn, error):
    """Re-raise an error from ``forward`` with the op's name in front of its message."""
    message = str(error)
    name = fn.name()
    if message.startswith((name, f"{fn.label}:")):
        raise error
    try:
        renamed = type(error)(f"{name}: {message}")
    except Exception:  # an exception type with a different constructor: keep it as it is
        raise error from None
    raise renamed from None


def _raise_device_mismatch(fn, inputs):
    devices = [x.device for x in inputs if isinstance(x, Tensor)]
    raise RuntimeError(f"{fn.name()}: expected all tensors on the same device, "
                       f"but found tensors on {' and '.join(sorted(set(devices)))}")


def _raise_modified(fn, tensor, version):
    raise RuntimeError(
        f"one of the tensors needed for the gradient of '{fn.name()}' (shape {tuple(tensor.shape)}) "
        f"has been modified by an in-place operation: it is at version {tensor._version}, "
        f"expected version {version}. Make a copy before changing it, or change it after backward().")


from .tensor import Tensor, plain  # noqa: E402  (Tensor and Function refer to each other)
