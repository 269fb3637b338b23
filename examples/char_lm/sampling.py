"""Generating text: feed a character in, draw the next from the softmax, feed that back.

    p(x_{t+1} = k | x_<=t) = softmax(logits_t / T)_k

The temperature ``T`` sharpens (T < 1) or flattens (T > 1) the distribution; as T -> 0 the
draw becomes the argmax (greedy decoding), and ``temperature=0`` means exactly that.
"""
from __future__ import annotations

import numpy as np

import minigrad


def next_id(logits, temperature, rng):
    """Draw one id from host ``logits`` (V,) at ``temperature`` (0: argmax) with ``rng``."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


def sample(model, vocab, n, prime="\n", temperature=1.0, seed=None, device="cpu"):
    """``prime`` followed by ``n`` characters drawn from ``model``.

    The same ``seed`` gives the same text (the draws use their own NumPy generator, so
    sampling never disturbs the training random stream).
    """
    if not prime:
        raise ValueError("prime text must have at least one character")
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    drawn = []
    with minigrad.no_grad():
        x = minigrad.tensor(vocab.encode(prime)[:, None], device=device)    # (T, 1)
        logits, state = model(x)
        for _ in range(n):
            k = next_id(logits[-1, 0].numpy(), temperature, rng)
            drawn.append(k)
            logits, state = model(minigrad.tensor(np.array([[k]]), device=device), state)
    model.train(was_training)
    return prime + vocab.decode(drawn)
