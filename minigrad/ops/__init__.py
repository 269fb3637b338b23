"""The op library: one ``Function`` subclass per operation, forward and backward side by side.

- ``arithmetic``: + - * / ** @ with NumPy broadcasting
- ``elementwise``: exp, log, sqrt, abs, tanh, sigmoid, relu, clamp, where, dtype casts
- ``reductions``: sum, mean, var, max, min
- ``shape``: reshape, transpose, permute, squeeze, unsqueeze, expand, and sum_to/broadcast_to
- ``indexing``: ``x[index]`` with ints, slices, integer arrays and masks
- ``join``: cat, stack, split, chunk, unbind
- ``softmax``: softmax, log_softmax, cross_entropy (log-sum-exp stable)
- ``device``: moving tensors between CPU and GPU
- ``promotion``: the dtype rules of mixed operands (float op int -> float)
- ``linear``, ``embedding``, ``dropout``, ``conv``: the layers' ops (``nn.functional`` checks
  the arguments and calls them)
- ``rnn_cells``, ``rnn_sequence``: a recurrent cell step, or a layer's whole time loop, as one
  node (``graph="steps"`` / ``graph="layer"``); ``rnn_kernels``: their GPU kernels;
  ``gate_layout``: how the gates are stacked; ``rnn_weight_grads``: W_hh's gradient summed
  over all time steps in one matmul
"""
