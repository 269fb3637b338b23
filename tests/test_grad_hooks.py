"""Post-accumulate-grad hooks and queued callbacks: how DistributedDataParallel learns that
a backward has finished a parameter's gradient."""
import pytest

import minigrad
from minigrad.autograd import queue_callback


def test_hook_sees_the_finished_gradient_once_per_backward():
    w = minigrad.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    ((w * w).sum() + (3 * w).sum()).backward()      # two edges into w: one call, the sum
    assert seen == [[5.0, 7.0]]
    (w * 2).sum().backward()                        # accumulates: the hook sees the total
    assert seen == [[5.0, 7.0], [7.0, 9.0]]


def test_hooks_run_in_registration_order_and_remove_unregisters():
    w = minigrad.tensor([1.0], requires_grad=True)
    calls = []
    first = w.register_post_accumulate_grad_hook(lambda t: calls.append("first"))
    w.register_post_accumulate_grad_hook(lambda t: calls.append("second"))
    (w * 1).sum().backward()
    first.remove()
    (w * 1).sum().backward()
    assert calls == ["first", "second", "second"]


def test_grad_never_calls_hooks():
    w = minigrad.tensor([1.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t))
    minigrad.grad((w * w).sum(), w)
    assert calls == [] and w.grad is None


def test_queued_callback_runs_after_every_hook():
    a = minigrad.tensor([1.0], requires_grad=True)
    b = minigrad.tensor([2.0], requires_grad=True)
    events = []

    def hook(t):
        events.append(f"hook {t.tolist()}")
        if len(events) == 1:
            queue_callback(lambda: events.append("callback"))
    a.register_post_accumulate_grad_hook(hook)
    b.register_post_accumulate_grad_hook(hook)
    (a * b).sum().backward()
    assert events[-1] == "callback" and sorted(events[:2]) == ["hook [1.0]", "hook [2.0]"]


def test_queue_callback_outside_a_backward_is_refused():
    with pytest.raises(RuntimeError, match="post-accumulate-grad hook"):
        queue_callback(lambda: None)


def test_hooks_only_on_leaves_and_callables():
    w = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="callable"):
        w.register_post_accumulate_grad_hook(3)
