def truncated_bptt(xs, h0, w_ih, w_hh, b_ih, b_hh, k):
    h = h0
    for start in range(0, len(xs), k):
        loss = 0.0
        for t in range(start, min(start + k, len(xs))):
            h = (xs[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh).tanh()
            loss = loss + (h ** 2).sum()
        loss.backward()                  # k steps back at most ...
        h = h.detach()                   # ... because the next chunk starts from a cut state
    return w_hh.grad, h
