"""Hand-written NumPy character language models: the reference minigrad is measured against.

One training step of a char-LM, written by hand with no autograd at all::

    x_t      = E[idx_t]                                  embedding, (B, H)
    xw       = X W_ih^T + b          for all T at once   the input projection, hoisted
    h_t, c_t = cell(xw_t, h_{t-1}, c_{t-1})              one (B, H) @ (H, kH) matmul per step
    logits   = H_all W_out^T + b_out                     (T*B, V), one matmul
    loss     = mean_t,b  -log softmax(logits)[target]
    backward: the same in reverse, derived by hand; weight gradients are summed over all
              steps in one matmul after the loop (dW_hh = dA^T H_prev)
    clip the global gradient norm, then one Adam step

This is the best a NumPy framework can hope for: every matmul as large as the maths allows,
activations computed in place, no graph and no Python objects per operation. Three cells
(PyTorch's gate order and equations)::

    LSTM  i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)   a = xw_t + h W_hh^T
          c' = f ⊙ c + i ⊙ g;   h' = o ⊙ tanh(c')
    GRU   r, z = σ(xw_r + hw_r), σ(xw_z + hw_z)            hw = h W_hh^T + b_hh
          n = tanh(xw_n + r ⊙ hw_n);   h' = (1 − z) ⊙ n + z ⊙ h
    RNN   h' = tanh(xw_t + h W_hh^T)

Arrays are time-major: inputs and targets are (T, B) integer arrays.

    model = NumpyCharLM("lstm", vocab=65, hidden=128)
    loss, state = model.train_step(idx, targets)              # full BPTT over T
    loss, state = model.train_step(idx, targets, state)       # truncated BPTT: carry the state
"""
from __future__ import annotations

import numpy as np

GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def _sigmoid_(a):
    """σ(a) in place, as ½ tanh(a/2) + ½ (never overflows, unlike 1 / (1 + e^−a))."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _add_rows(target, rows, values):
    """target[rows[n]] += values[n], repeats accumulating: sort the rows and sum each run of
    equal rows with one add.reduceat (several times faster than numpy.add.at)."""
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    target[ordered[starts]] += np.add.reduceat(values[order], starts, axis=0)
    return target


class NumpyCharLM:
    """Embedding → recurrent layer (LSTM, GRU or tanh RNN) → Linear → cross-entropy, by hand.

    Parameter names and shapes follow PyTorch (``weight_ih`` (kH, E), ``weight_hh`` (kH, H),
    ``bias_ih``, ``bias_hh``), so weights can be copied from a torch or minigrad model to
    check gradients against them.
    """

    def __init__(self, cell, vocab, hidden, embed=None, seed=0, dtype=np.float32,
                 lr=1e-3, betas=(0.9, 0.999), eps=1e-8, max_norm=5.0):
        if cell not in GATES:
            raise ValueError(f"cell must be one of {sorted(GATES)}, got {cell!r}")
        self.cell, self.V, self.H = cell, vocab, hidden
        self.E = hidden if embed is None else embed
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        k = GATES[cell] * hidden
        bound = 1.0 / np.sqrt(hidden)

        def uniform(*shape):
            return rng.uniform(-bound, bound, size=shape).astype(self.dtype)

        self.params = {
            "embedding": rng.standard_normal((vocab, self.E)).astype(self.dtype),
            "weight_ih": uniform(k, self.E), "weight_hh": uniform(k, hidden),
            "bias_ih": uniform(k), "bias_hh": uniform(k),
            "out_weight": uniform(vocab, hidden), "out_bias": uniform(vocab),
        }
        self.lr, self.betas, self.eps, self.max_norm = lr, betas, eps, max_norm
        self.m = {n: np.zeros_like(p) for n, p in self.params.items()}
        self.v = {n: np.zeros_like(p) for n, p in self.params.items()}
        self.t = 0

    # -- one training step ---------------------------------------------------------
    def train_step(self, idx, targets, state=None):
        """Forward, backward (full BPTT over the T steps given), clip, Adam.

        Returns ``(loss, state)``; ``state`` (the last h, or (h, c) for the LSTM, as plain
        arrays: already "detached") starts the next chunk for truncated BPTT.
        """
        loss, grads, state = self.loss_and_grads(idx, targets, state)
        self._clip(grads)
        self._adam(grads)
        return loss, state

    def loss_and_grads(self, idx, targets, state=None):
        """The loss (a float), a dict of gradients named like ``params``, and the last state."""
        p = self.params
        T, B = idx.shape
        x = p["embedding"][idx.reshape(-1)]                               # (T*B, E)
        xw = x @ p["weight_ih"].T                                         # (T*B, kH)
        xw += p["bias_ih"]
        if self.cell != "gru":                                            # b_hh adds the same
            xw += p["bias_hh"]
        xw = xw.reshape(T, B, -1)
        hs, cache, last = _FORWARD[self.cell](self, xw, state)            # hs: (T+1, B, H)

        h_top = hs[1:].reshape(T * B, self.H)
        logits = h_top @ p["out_weight"].T
        logits += p["out_bias"]
        flat_targets = targets.reshape(-1)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)                        # now softmax
        rows = np.arange(T * B)
        loss = -float(np.log(logits[rows, flat_targets]).astype(np.float64).mean())

        d_logits = logits                                                  # softmax − onehot, / N
        d_logits[rows, flat_targets] -= 1.0
        d_logits *= 1.0 / (T * B)
        g = {"out_weight": d_logits.T @ h_top, "out_bias": d_logits.sum(axis=0)}
        dh_all = (d_logits @ p["out_weight"]).reshape(T, B, self.H)

        d_pre, g_hh = _BACKWARD[self.cell](self, dh_all, hs, cache)        # d_pre: (T, B, kH)
        d_pre = d_pre.reshape(T * B, -1)
        g["weight_hh"], g["bias_hh"] = g_hh
        g["weight_ih"] = d_pre.T @ x
        g["bias_ih"] = d_pre.sum(axis=0)
        if self.cell != "gru":
            g["bias_hh"] = g["bias_ih"].copy()
        dx = d_pre @ p["weight_ih"]                                        # (T*B, E)
        g["embedding"] = _add_rows(np.zeros_like(p["embedding"]), idx.reshape(-1), dx)
        return loss, g, last

    # -- LSTM ----------------------------------------------------------------------
    def _lstm_forward(self, xw, state):
        T, B, _ = xw.shape
        H = self.H
        w_hh_t = self.params["weight_hh"].T
        hs = np.empty((T + 1, B, H), self.dtype)
        cs = np.empty((T + 1, B, H), self.dtype)
        tanh_c = np.empty((T, B, H), self.dtype)
        hs[0], cs[0] = (0.0, 0.0) if state is None else state
        gates = xw                                    # overwritten in place with the activations
        for t in range(T):
            a = gates[t]                              # (B, 4H): a = xw_t + h W_hh^T
            a += hs[t] @ w_hh_t
            _sigmoid_(a[:, :2 * H])                   # i, f
            np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])   # g
            _sigmoid_(a[:, 3 * H:])                   # o
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            np.multiply(f, cs[t], out=cs[t + 1])
            cs[t + 1] += i * g                        # c' = f ⊙ c + i ⊙ g
            np.tanh(cs[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=hs[t + 1])  # h' = o ⊙ tanh(c')
        return hs, (gates, cs, tanh_c), (hs[T].copy(), cs[T].copy())

    def _lstm_backward(self, dh_all, hs, cache):
        gates, cs, tanh_c = cache
        T, B, H = dh_all.shape
        w_hh = self.params["weight_hh"]
        d_pre = np.empty_like(gates)
        dh = np.zeros((B, H), self.dtype)
        dc = np.zeros((B, H), self.dtype)
        for t in range(T - 1, -1, -1):
            a = gates[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            d = d_pre[t]
            dh += dh_all[t]                                       # from the output and from t+1
            tc = tanh_c[t]
            np.multiply(dh, tc, out=d[:, 3 * H:])
            d[:, 3 * H:] *= o * (1.0 - o)                         # ∂/∂a_o
            dc += dh * o * (1.0 - tc * tc)                        # ∂/∂c' via h' = o tanh(c')
            np.multiply(dc, g, out=d[:, :H])
            d[:, :H] *= i * (1.0 - i)                             # ∂/∂a_i
            np.multiply(dc, cs[t], out=d[:, H:2 * H])
            d[:, H:2 * H] *= f * (1.0 - f)                        # ∂/∂a_f
            np.multiply(dc, i, out=d[:, 2 * H:3 * H])
            d[:, 2 * H:3 * H] *= 1.0 - g * g                      # ∂/∂a_g
            dc *= f                                               # to c_{t-1}
            dh = d @ w_hh                                         # to h_{t-1}
        h_prev = hs[:-1].reshape(T * B, H)
        return d_pre, (d_pre.reshape(T * B, -1).T @ h_prev, None)

    # -- GRU -----------------------------------------------------------------------
    def _gru_forward(self, xw, state):
        T, B, _ = xw.shape
        H = self.H
        w_hh_t, b_hh = self.params["weight_hh"].T, self.params["bias_hh"]
        hs = np.empty((T + 1, B, H), self.dtype)
        hs[0] = 0.0 if state is None else state
        hw_n = np.empty((T, B, H), self.dtype)
        gates = xw                                    # r, z, n activations, in place
        for t in range(T):
            hw = hs[t] @ w_hh_t                       # (B, 3H)
            hw += b_hh
            a = gates[t]
            a[:, :2 * H] += hw[:, :2 * H]
            _sigmoid_(a[:, :2 * H])                   # r, z
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            hw_n[t] = hw[:, 2 * H:]
            n += r * hw_n[t]
            np.tanh(n, out=n)                         # n = tanh(xw_n + r ⊙ hw_n)
            np.subtract(hs[t], n, out=hs[t + 1])
            hs[t + 1] *= z
            hs[t + 1] += n                            # h' = n + z ⊙ (h − n)
        return hs, (gates, hw_n), hs[T].copy()

    def _gru_backward(self, dh_all, hs, cache):
        gates, hw_n = cache
        T, B, H = dh_all.shape
        w_hh = self.params["weight_hh"]
        d_pre = np.empty_like(gates)                  # ∂/∂xw (input side)
        d_hw = np.empty_like(gates)                   # ∂/∂hw (recurrent side)
        dh = np.zeros((B, H), self.dtype)
        for t in range(T - 1, -1, -1):
            a = gates[t]
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            d, e = d_pre[t], d_hw[t]
            dh += dh_all[t]
            dn = dh * (1.0 - z)
            dn *= 1.0 - n * n                                     # ∂/∂(xw_n + r hw_n)
            d[:, 2 * H:] = dn
            np.multiply(dn, r, out=e[:, 2 * H:])                  # ∂/∂hw_n
            np.multiply(dn, hw_n[t], out=d[:, :H])
            d[:, :H] *= r * (1.0 - r)                             # ∂/∂a_r
            np.subtract(hs[t], n, out=d[:, H:2 * H])
            d[:, H:2 * H] *= dh
            d[:, H:2 * H] *= z * (1.0 - z)                        # ∂/∂a_z
            e[:, :2 * H] = d[:, :2 * H]
            dh *= z                                               # direct path h → h'
            dh += e @ w_hh
        h_prev = hs[:-1].reshape(T * B, H)
        d_hw = d_hw.reshape(T * B, -1)
        return d_pre, (d_hw.T @ h_prev, d_hw.sum(axis=0))

    # -- vanilla RNN ----------------------------------------------------------------
    def _rnn_forward(self, xw, state):
        T, B, _ = xw.shape
        w_hh_t = self.params["weight_hh"].T
        hs = np.empty((T + 1, B, self.H), self.dtype)
        hs[0] = 0.0 if state is None else state
        for t in range(T):
            a = xw[t]
            a += hs[t] @ w_hh_t
            np.tanh(a, out=hs[t + 1])                 # h' = tanh(xw_t + h W_hh^T)
        return hs, None, hs[T].copy()

    def _rnn_backward(self, dh_all, hs, cache):
        T, B, H = dh_all.shape
        w_hh = self.params["weight_hh"]
        d_pre = np.empty((T, B, H), self.dtype)
        dh = np.zeros((B, H), self.dtype)
        for t in range(T - 1, -1, -1):
            dh += dh_all[t]
            h = hs[t + 1]
            np.multiply(h, h, out=d_pre[t])
            np.subtract(1.0, d_pre[t], out=d_pre[t])
            d_pre[t] *= dh                                        # ∂/∂a = dh (1 − h'²)
            dh = d_pre[t] @ w_hh
        h_prev = hs[:-1].reshape(T * B, H)
        return d_pre, (d_pre.reshape(T * B, -1).T @ h_prev, None)

    # -- clip and Adam ----------------------------------------------------------------
    def _clip(self, grads):
        """Scale every gradient by max_norm / ||g|| when the global norm exceeds max_norm."""
        total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
        if total > self.max_norm:
            scale = self.max_norm / (total + 1e-6)
            for g in grads.values():
                g *= scale
        return total

    def _adam(self, grads):
        """m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  p ← p − lr m̂ / (√v̂ + ε)."""
        self.t += 1
        b1, b2 = self.betas
        step = self.lr / (1.0 - b1 ** self.t)
        root_fix = float(np.sqrt(1.0 - b2 ** self.t))
        for name, p in self.params.items():
            g, m, v = grads[name], self.m[name], self.v[name]
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            g *= g
            g *= 1.0 - b2
            v += g
            denom = np.sqrt(v)
            denom /= root_fix
            denom += self.eps
            np.divide(m, denom, out=denom)
            denom *= step
            p -= denom


_FORWARD = {"lstm": NumpyCharLM._lstm_forward, "gru": NumpyCharLM._gru_forward,
            "rnn": NumpyCharLM._rnn_forward}
_BACKWARD = {"lstm": NumpyCharLM._lstm_backward, "gru": NumpyCharLM._gru_backward,
             "rnn": NumpyCharLM._rnn_backward}
