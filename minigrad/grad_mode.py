"""Switches that change how operations are recorded: ``no_grad`` and the graph scope.

The only mutable state in minigrad that is not inside a tensor, a node or a module lives
here, in one small object that is **local to each thread** (``threading.local``), as
PyTorch's grad mode is: a ``no_grad()`` in one thread never switches recording off in
another, and two threads can train two models at once.

- ``grad_enabled``: when False (inside ``no_grad``) operations build no graph.
- ``module`` / ``step``: the dotted module path and time step that the next graph
  node is tagged with, so a picture of the graph can group nodes by layer or by
  unrolled time step. They are set only through ``graph_scope`` (below), which every
  cell step and layer time step enters, and ``run_in_module_scope``, its form for an
  ``nn.Module`` call.
"""
from __future__ import annotations

import functools
import threading


class _GraphState(threading.local):
    """Each thread sees its own ``grad_enabled`` and ``scope`` (set afresh in a new thread)."""

    def __init__(self):
        self.grad_enabled = True
        self.scope = None  # None, or (module_path, step) for the nodes being made
        # True while a backward runs with split_shared=True: one-node recurrent steps hand
        # their own share of W_hh's gradient along their own edge instead of one summed matmul
        self.split_shared = False
        # While a backward calls post-accumulate-grad hooks: the callbacks they queued
        # (autograd.queue_callback); None at any other time
        self.backward_callbacks = None


STATE = _GraphState()


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


class _GradModeSwitch:
    """Context manager and decorator that sets ``grad_enabled`` and restores it."""

    enabled = True

    def __enter__(self):
        self._previous = STATE.grad_enabled
        STATE.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradModeSwitch):
    """Build no graph inside this block (or decorated function)::

        with minigrad.no_grad():
            val_loss = model(x)        # no grad_fn, nothing saved for backward
    """

    enabled = False


class enable_grad(_GradModeSwitch):
    """Record the graph again inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradModeSwitch):
    """Record the graph or not, by a flag, as ``torch.set_grad_enabled``: a context manager
    (``with minigrad.set_grad_enabled(is_training):``), a decorator, or a plain call that
    switches this thread's mode until it is set again."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be True or False, got {mode!r}")
        self.enabled = mode
        self._previous = STATE.grad_enabled
        STATE.grad_enabled = mode            # a plain call takes effect at once

    def __enter__(self):
        return self

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.enabled):
                return func(*args, **kwargs)
        STATE.grad_enabled = self._previous  # as a decorator it changes nothing until called
        return wrapper


def inference_mode(mode=True):
    """``no_grad`` (``mode=False``: recording stays as it is), for code written with
    ``torch.inference_mode``."""
    return no_grad() if mode else enable_grad() if STATE.grad_enabled else no_grad()


class _NoStep:
    """``graph_scope(step=NO_STEP)``: the nodes made here belong to no time step."""

    __slots__ = ()

    def __repr__(self):
        return "NO_STEP"


NO_STEP = _NoStep()


class graph_scope:
    """Tag the graph nodes made inside this block with a module path and a time step.

    ``module=None`` keeps the enclosing module path; ``step=None`` keeps the enclosing step;
    ``step=NO_STEP`` tags no step (a layer's work before and after its time loop). The
    previous scope is restored when the block ends, also when it raises. Every module call,
    cell step and layer step of ``nn`` goes through here; it is entered once per time step,
    so it stays small (``__slots__``, no allocation beyond the scope tuple).
    """

    __slots__ = ("module", "step", "_previous")

    def __init__(self, module=None, step=None):
        self.module = module
        self.step = step

    def __enter__(self):
        state = STATE.__dict__          # this thread's modes: one thread-local lookup
        self._previous = previous = state["scope"]
        module, step = previous if previous is not None else (None, None)
        if self.module is not None:
            module = self.module
        if self.step is not None:
            step = None if self.step is NO_STEP else self.step
        state["scope"] = (module, step)
        return self

    def __exit__(self, *exc):
        STATE.scope = self._previous
        return False


def run_in_module_scope(name, function, args, kwargs):
    """``function(*args, **kwargs)`` (a module's forward) with the nodes it makes tagged
    ``parent.name`` (just ``name`` under the top level, the enclosing path when ``name`` is
    None, ``""`` for a top-level call) in the enclosing time step: ``graph_scope`` written
    out for a module call, which runs for every module a forward touches, time step by time
    step. The previous scope is restored also when ``function`` raises."""
    state = STATE.__dict__          # this thread's modes: one thread-local lookup
    previous = state["scope"]
    if previous is None:
        state["scope"] = ("", None)
    else:
        parent, step = previous
        if name:
            parent = f"{parent}.{name}" if parent else name
        state["scope"] = (parent, step)
    try:
        return function(*args, **kwargs)
    finally:
        state["scope"] = previous


def current_scope():
    """``(module_path, step)`` that new nodes are tagged with, or None."""
    return STATE.scope
