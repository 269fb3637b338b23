import numpy as np


def bptt_by_hand(xs, h0, w_ih, w_hh, b, dh):
    # forward, keeping every state: h_t = tanh(x_t W_ihᵀ + h_{t-1} W_hhᵀ + b)
    hs = [h0]
    for x in xs:
        hs.append(np.tanh(x @ w_ih.T + hs[-1] @ w_hh.T + b))
    # backward, from the last step to the first
    d_w_ih, d_w_hh, d_b = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(b)
    carry = np.zeros_like(h0)                       # dL/dh_t arriving from step t+1
    for t in reversed(range(len(xs))):
        d_h = dh[t] + carry                         # from the loss at t, and from the future
        d_pre = d_h * (1 - hs[t + 1] ** 2)          # through tanh
        d_w_ih += d_pre.T @ xs[t]
        d_w_hh += d_pre.T @ hs[t]                   # the same W_hh at every step: a sum
        d_b += d_pre.sum(axis=0)
        carry = d_pre @ w_hh
    return d_w_ih, d_w_hh, d_b, carry               # carry is now dL/dh_0
