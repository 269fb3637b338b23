"""The op library: one ``Function`` subclass per operation, forward and backward side by side.

- ``arithmetic``: + - * / ** @ with NumPy broadcasting
- ``elementwise``: exp, log, sqrt, abs, tanh, sigmoid, relu, clamp, where, dtype casts
- ``reductions``: sum, mean, var, max, min
- ``shape``: reshape, transpose, permute, squeeze, unsqueeze, expand, and sum_to/broadcast_to
- ``indexing``: ``x[index]`` with ints, slices, integer arrays and masks
- ``join``: cat, stack, split, chunk, unbind
- ``softmax``: softmax, log_softmax, cross_entropy (log-sum-exp stable)
- ``device``: moving tensors between CPU and GPU
"""
