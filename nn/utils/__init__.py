"""``nn.utils``, as ``torch.nn.utils``: gradient clipping (``clip_grad``) and variable-length
batches for the recurrent layers (``rnn``: ``pack_padded_sequence`` and its inverse)::

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)   # rescale if ‖g‖ > 5
    optimizer.step()
"""
from . import rnn  # noqa: F401
from .clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
