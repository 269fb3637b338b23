"""Grad mode is per thread (as PyTorch's): a ``no_grad`` in one thread never changes
recording in another, and two threads training two models give the sequential results."""
import threading

import numpy as np

import minigrad
import nn
import nn.functional as F
from minigrad import optim


def run_threads(*targets):
    errors = []

    def guard(fn):
        try:
            fn()
        except BaseException as error:  # a failure inside a thread must fail the test
            errors.append(error)

    threads = [threading.Thread(target=guard, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_no_grad_in_one_thread_does_not_switch_off_another():
    inside, go_on, seen = threading.Event(), threading.Event(), {}

    def quiet():
        with minigrad.no_grad():
            inside.set()
            go_on.wait(10)
            seen["quiet"] = minigrad.is_grad_enabled()

    def recording():
        inside.wait(10)
        x = minigrad.ones(2, requires_grad=True)
        y = (x * 3).sum()
        seen["recording"] = minigrad.is_grad_enabled()
        seen["graph"] = y.grad_fn is not None
        y.backward()
        seen["grad"] = x.grad.tolist()
        go_on.set()

    run_threads(quiet, recording)
    assert seen == {"quiet": False, "recording": True, "graph": True, "grad": [3.0, 3.0]}
    assert minigrad.is_grad_enabled()


def test_a_new_thread_starts_with_grad_enabled_whatever_the_parent_does():
    seen = []
    with minigrad.no_grad():
        run_threads(lambda: seen.append(minigrad.is_grad_enabled()))
    assert seen == [True]


def test_interleaved_no_grad_blocks_restore_each_threads_own_mode():
    barrier = threading.Barrier(2)
    modes = []

    def worker():
        for _ in range(50):
            with minigrad.no_grad():
                barrier.wait(10)
                assert not minigrad.is_grad_enabled()
            barrier.wait(10)
            assert minigrad.is_grad_enabled()
        modes.append(minigrad.is_grad_enabled())

    run_threads(worker, worker)
    assert modes == [True, True] and minigrad.is_grad_enabled()


def train(seed):
    """A small LSTM language model and its data generator (built in the main thread: the
    initial weights come from minigrad's one seeded generator)."""
    rng = np.random.default_rng(seed)
    minigrad.manual_seed(seed)
    emb, lstm, head = nn.Embedding(7, 5), nn.LSTM(5, 8), nn.Linear(8, 7)
    model = nn.ModuleList([emb, lstm, head])
    return model, rng


def fit(model, rng, steps=15):
    """Train with Adam; the final weights and the losses."""
    emb, lstm, head = model
    opt = optim.Adam(model.parameters(), lr=0.05)
    data = minigrad.tensor(rng.integers(0, 7, size=(9, 4)))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        out, _ = lstm(emb(data[:-1]))
        loss = F.cross_entropy(head(out).reshape(-1, 7), data[1:].reshape(-1))
        loss.backward()
        opt.step()
        with minigrad.no_grad():   # each thread also switches its own grad mode off and on
            losses.append(loss.item())
    return [p.numpy().copy() for p in model.parameters()], losses


def test_two_threads_training_two_models_give_the_sequential_results():
    models = [train(1), train(2)]
    initial = [[p.numpy().copy() for p in m.parameters()] for m, _ in models]
    sequential = [fit(*train(1)), fit(*train(2))]
    for (m, _), start in zip(models, initial):
        assert all(np.array_equal(p.numpy(), s) for p, s in zip(m.parameters(), start))
    results = [None, None]

    def worker(i):
        return lambda: results.__setitem__(i, fit(*models[i]))

    run_threads(worker(0), worker(1))
    for (weights, losses), (seq_weights, seq_losses) in zip(results, sequential):
        assert losses == seq_losses
        assert all(np.array_equal(a, b) for a, b in zip(weights, seq_weights))
