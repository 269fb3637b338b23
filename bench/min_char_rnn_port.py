"""The lecture's min-char-rnn two ways: by hand in NumPy, and ported to minigrad as a student
would port it first (an ``nn.Module`` whose forward writes the same equations with tensors).

    python bench/min_char_rnn_port.py          # a few seconds: ms per step and the ratio
    python bench/min_char_rnn_port.py --steps 300 --dtype float32

Both train the same vanilla RNN on the same characters (B=1, T=25, H=100, one-hot inputs)::

    h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)        y_t = W_hy h_t + b_y
    loss = Σ_t −log softmax(y_t)[target_t]           (summed over the 25 steps)
    clip every gradient entry to [−5, 5], then Adagrad:  s += g²;  p −= lr · g / (√s + ε)

The NumPy step is min-char-rnn's loss function and update, written out from those equations
(the backward derived by hand, one time step at a time). The port records one graph node per
operation and calls ``loss.backward()``, ``nn.utils.clip_grad_value_`` and ``optim.Adagrad``.
Before timing, the two are checked to give the same loss and gradients. ``run(steps)``
returns the numbers for ``bench/run.py``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

V, H, T = 65, 100, 25          # min-char-rnn's sizes (V: the tiny-Shakespeare alphabet)
LR, CLIP, EPS = 0.1, 5.0, 1e-10


def initial_parameters(seed=0):
    """min-char-rnn's initialisation: N(0, 0.01²) weights, zero biases (float64)."""
    rng = np.random.default_rng(seed)
    return {"W_xh": rng.standard_normal((H, V)) * 0.01, "W_hh": rng.standard_normal((H, H)) * 0.01,
            "W_hy": rng.standard_normal((V, H)) * 0.01, "b_h": np.zeros(H), "b_y": np.zeros(V)}


def batches(n, seed=1):
    """``n`` (inputs, targets) pairs of T character indices each, and the one-hot vectors."""
    rng = np.random.default_rng(seed)
    text = rng.integers(0, V, n * T + 1)
    return [(text[i * T:(i + 1) * T], text[i * T + 1:(i + 1) * T + 1]) for i in range(n)]


class NumpyMinCharRNN:
    """The hand-written step: forward, backward through time, clip, Adagrad, on arrays."""

    def __init__(self, dtype):
        self.p = {k: v.astype(dtype) for k, v in initial_parameters().items()}
        self.s = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.eye = np.eye(V, dtype=dtype)
        self.dtype = dtype

    def step(self, inputs, targets, h):
        loss, g, h = self.loss_and_grads(inputs, targets, h)
        for k, d in g.items():
            np.clip(d, -CLIP, CLIP, out=d)
            self.s[k] += d * d
            self.p[k] -= LR * d / (np.sqrt(self.s[k]) + EPS)
        return loss, h

    def loss_and_grads(self, inputs, targets, h):
        p = self.p
        xs, hs, ps = {}, {-1: h}, {}
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = self.eye[inputs[t]]
            hs[t] = np.tanh(p["W_xh"] @ xs[t] + p["W_hh"] @ hs[t - 1] + p["b_h"])
            y = p["W_hy"] @ hs[t] + p["b_y"]
            e = np.exp(y - y.max())
            ps[t] = e / e.sum()
            loss -= float(np.log(ps[t][targets[t]]))
        g = {k: np.zeros_like(v) for k, v in p.items()}
        dh_next = np.zeros(H, self.dtype)
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1                               # ∂loss/∂y_t = softmax − one-hot
            # outer products as min-char-rnn writes them, np.dot(dy, hs[t].T) of column
            # vectors: BLAS, twice the speed of np.outer
            g["W_hy"] += np.dot(dy[:, None], hs[t][None, :])
            g["b_y"] += dy
            da = (1 - hs[t] * hs[t]) * (p["W_hy"].T @ dy + dh_next)   # through tanh
            g["b_h"] += da
            g["W_xh"] += np.dot(da[:, None], xs[t][None, :])
            g["W_hh"] += np.dot(da[:, None], hs[t - 1][None, :])
            dh_next = p["W_hh"].T @ da
        return loss, g, hs[len(inputs) - 1]


class MinigradPort:
    """The port: the same model as a Module; autograd does the backward."""

    def __init__(self, dtype):
        import minigrad
        import nn
        from minigrad import optim

        class MinCharRNN(nn.Module):
            def __init__(self):
                super().__init__()
                for name, value in initial_parameters().items():
                    setattr(self, name, nn.Parameter(value.astype(dtype)))

            def forward(self, xs, h):
                logits = []
                for x in xs:
                    h = (self.W_xh @ x + self.W_hh @ h + self.b_h).tanh()
                    logits.append(self.W_hy @ h + self.b_y)
                return minigrad.stack(logits, 0), h

        self.minigrad, self.nn = minigrad, nn
        self.model = MinCharRNN()
        self.opt = optim.Adagrad(self.model.parameters(), lr=LR, eps=EPS)
        self.eye = np.eye(V, dtype=dtype)

    def step(self, inputs, targets, h):
        loss, h = self.loss_and_backward(inputs, targets, h)
        self.nn.utils.clip_grad_value_(self.model.parameters(), CLIP)
        self.opt.step()
        return loss, h

    def loss_and_backward(self, inputs, targets, h):
        """The loss (a float) and the last h; the gradients are left in each ``.grad``."""
        mg, F = self.minigrad, self.nn.functional
        xs = [mg.tensor(self.eye[i]) for i in inputs]
        logits, h = self.model(xs, mg.tensor(h))
        loss = F.cross_entropy(logits, mg.tensor(targets), reduction="sum")
        self.opt.zero_grad()
        loss.backward()
        return loss.item(), h.detach().numpy()


def check_same(dtype):
    """Largest relative difference of the two's loss and gradients on a first step from the
    same parameters. (Only the first: Adagrad's first update is lr · g / |g|, the sign of g,
    so rounding-level differences in a tiny gradient become ±lr and the runs drift apart.)"""
    a, b = NumpyMinCharRNN(dtype), MinigradPort(dtype)
    (inputs, targets), = batches(1)
    la, grads, _ = a.loss_and_grads(inputs, targets, np.zeros(H, dtype))
    lb, _ = b.loss_and_backward(inputs, targets, np.zeros(H, dtype))
    worst = abs(la - lb) / abs(la)
    for name, p in b.model.named_parameters():
        scale = max(float(np.abs(grads[name]).max()), 1e-30)
        worst = max(worst, float(np.abs(p.grad.numpy() - grads[name]).max()) / scale)
    return worst


def run(steps=100, dtype="float64", rounds=5):
    """{"numpy_ms", "minigrad_ms", "ratio" (NumPy time / minigrad time: 1.0 = as fast),
    "max_difference"}: the best of ``rounds`` bursts of ``steps // rounds`` steps each,
    the two taking turns."""
    dtype = np.dtype(dtype)
    difference = check_same(dtype)
    models = {"numpy": NumpyMinCharRNN(dtype), "minigrad": MinigradPort(dtype)}
    per_round = max(1, steps // rounds)
    data = batches(per_round * rounds)
    best = {k: float("inf") for k in models}
    states = {k: np.zeros(H, dtype) for k in models}
    for r in range(rounds):
        chunk = data[r * per_round:(r + 1) * per_round]
        for name, model in models.items():
            start = time.perf_counter()
            for inputs, targets in chunk:
                _, states[name] = model.step(inputs, targets, states[name])
            best[name] = min(best[name], (time.perf_counter() - start) / len(chunk))
    return {"numpy_ms": best["numpy"] * 1e3, "minigrad_ms": best["minigrad"] * 1e3,
            "ratio": best["numpy"] / best["minigrad"], "max_difference": difference}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="timed steps of each (default 100)")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"],
                        help="min-char-rnn computes in float64 (NumPy's default)")
    args = parser.parse_args()
    r = run(args.steps, args.dtype)
    print(f"min-char-rnn, B=1 T={T} H={H} V={V}, {args.dtype}: NumPy by hand "
          f"{r['numpy_ms']:.2f} ms per step, minigrad port {r['minigrad_ms']:.2f} ms; speed ratio "
          f"{r['ratio']:.2f}x (1.0 = as fast as NumPy); largest relative difference of loss "
          f"and gradients {r['max_difference']:.1e}")


if __name__ == "__main__":
    main()
