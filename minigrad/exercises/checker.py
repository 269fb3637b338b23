"""``check(name, fn)``: run the student's function and the library's on the same random
inputs, and report the first output or gradient that differs.

For an exercise written with minigrad ops the comparison has two parts::

    values:     fn(inputs)            vs  reference(inputs)
    gradients:  d/d inputs Σ_k ⟨r_k, out_k⟩  for fixed random r_k, through both graphs

so a step whose forward is right but whose graph is cut (a ``.numpy()`` in the middle, a
``detach()``) is caught too.
"""
from __future__ import annotations

from minigrad import backend
from minigrad.autograd import grad
from minigrad.tensor import Tensor

from .compare import first_mismatch
from .registry import EXERCISES


class ExerciseFailed(AssertionError):
    """The student's answer differs from the library's; the message says where."""


def list_exercises():
    """``[(name, tutorial, signature, summary)]`` of every exercise."""
    return [(e.name, e.tutorial, e.signature, e.summary) for e in EXERCISES.values()]


def check(name, fn, *, seeds=(0, 1), verbose=True):
    """Compare ``fn`` with the library on random inputs (float64); True when it matches.

    Raises ``ExerciseFailed`` naming the first wrong output or gradient, its index and both
    values; returns False (and says so) while ``fn`` still raises ``NotImplementedError``.
    """
    if name not in EXERCISES:
        raise ValueError(f"check: unknown exercise {name!r}; expected one of {sorted(EXERCISES)}")
    if not callable(fn):
        raise TypeError(f"check: fn must be a function, got {type(fn).__name__}")
    exercise = EXERCISES[name]
    cases = 0
    for seed in seeds:
        for batch in exercise.batches:
            try:
                problem = _check_case(exercise, fn, seed, batch)
            except NotImplementedError:
                if verbose:
                    print(f"… {name}: not written yet — {exercise.signature}")
                return False
            if problem is not None:
                raise ExerciseFailed(f"{name} (case: seed {seed}, batch {batch}): {problem}")
            cases += 1
    if verbose:
        what = "values and gradients" if exercise.differentiable else "values"
        print(f"✓ {name}: {what} match the library on {cases} random cases")
    return True


def _check_case(exercise, fn, seed, batch):
    rng = backend.host_numpy().random.default_rng(1000 * seed + batch)
    state = rng.bit_generator.state
    student_inputs = exercise.make_inputs(rng, batch)
    rng.bit_generator.state = state
    reference_inputs = exercise.make_inputs(rng, batch)
    try:
        yours = fn(**student_inputs)
    except NotImplementedError:
        raise
    except Exception as error:  # the student's bug is the message, whatever it is
        return f"your function raised {type(error).__name__}: {error}"
    expected = exercise.reference(**reference_inputs)
    yours = _as_tuple(yours, len(exercise.outputs))
    if yours is None:
        return (f"expected {len(exercise.outputs)} results {exercise.outputs}, "
                f"got {_describe(fn, student_inputs)}")
    for out_name, mine, right in zip(exercise.outputs, yours, expected):
        problem = first_mismatch(out_name, mine, right)
        if problem is not None:
            return problem
    if exercise.differentiable:
        return _compare_gradients(exercise, yours, expected, student_inputs, reference_inputs, rng)
    return None


def _compare_gradients(exercise, yours, expected, student_inputs, reference_inputs, rng):
    leaves = [k for k, v in reference_inputs.items() if isinstance(v, Tensor) and v.requires_grad]
    for out_name, mine in zip(exercise.outputs, yours):
        if not isinstance(mine, Tensor) or not mine.requires_grad:
            return (f"{out_name} is not connected to the inputs' graph (no grad_fn): write the "
                    "step with minigrad operations (no .numpy(), .item() or detach()) so "
                    "gradients can flow back")
    projections = [rng.standard_normal(tuple(e.shape)) for e in expected]

    def gradients(outputs, inputs):
        loss = sum((o * Tensor(r, dtype=o.dtype)).sum() for o, r in zip(outputs, projections))
        return grad(loss, [inputs[k] for k in leaves], allow_unused=True)

    mine = gradients(yours, student_inputs)
    right = gradients(expected, reference_inputs)
    for leaf, g_mine, g_right in zip(leaves, mine, right):
        if g_mine is None:
            g_mine = backend.host_numpy().zeros(tuple(student_inputs[leaf].shape))
        problem = first_mismatch(f"the gradient with respect to {leaf}", g_mine, g_right)
        if problem is not None:
            return problem
    return None


def _as_tuple(result, n):
    if n == 1:
        return (result,)
    if isinstance(result, (tuple, list)) and len(result) == n:
        return tuple(result)
    return None


def _describe(fn, inputs):
    return f"{type(fn(**inputs)).__name__}"
