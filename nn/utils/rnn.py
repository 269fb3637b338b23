"""Variable-length batches for the recurrent layers, as ``torch.nn.utils.rnn``.

Captions and questions differ in length. A batch pads them to the longest, and packing
keeps only the real steps, time step by time step, longest sequences first::

    lengths [3, 2, 1]        padded (T=3, B=3)        packed data (6 rows)   batch_sizes
    "a b c"                  t=0:  a  d  f            a d f                  3
    "d e"                    t=1:  b  e  ·            b e                    2
    "f"                      t=2:  c  ·  ·            c                      1

``nn.LSTM`` / ``GRU`` / ``RNN`` take a ``PackedSequence`` and give one back (with h_n, c_n the
state at each sequence's own last step), so a loss over ``output.data`` sees no padding::

    packed = pack_padded_sequence(embedded, lengths, batch_first=True)
    hiddens, _ = lstm(packed)
    loss = F.cross_entropy(head(hiddens.data), pack_padded_sequence(targets, lengths, True).data)

Every function is built of a gather (``x[index]``), so gradients flow back to the padded
tensor's real steps, and the padding gets none.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from minigrad import backend
from minigrad.factory import tensor
from minigrad.ops.join import cat
from minigrad.tensor import Tensor, plain


class PackedSequence(NamedTuple):
    """A batch of sequences of different lengths, packed (see the module docstring)."""

    data: Tensor                              # (Σ L_b, *): the real steps, time step by time step
    batch_sizes: Tensor                       # int64 (T,): sequences still running at each step
    sorted_indices: Optional[Tensor] = None   # the batch by decreasing length (None: as given)
    unsorted_indices: Optional[Tensor] = None  # back to the order given

    def to(self, device):
        """The same packed batch with its data (and the sorting indices) on ``device``;
        ``batch_sizes`` stays on the CPU, as PyTorch keeps it."""
        move = (lambda t: None if t is None else t.to(device))
        return PackedSequence(self.data.to(device), self.batch_sizes,
                              move(self.sorted_indices), move(self.unsorted_indices))


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):  # noqa: A002
    """Pack a padded batch (T, B, *) ((B, T, *) when ``batch_first``) whose sequence b has
    ``lengths[b]`` real steps. ``enforce_sorted``: the lengths must already decrease;
    with False the batch is sorted here (``sorted_indices``) and unsorted by the inverse."""
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must be a tensor of at least 2 dimensions "
                         f"(T, B, *), got {getattr(input, 'shape', type(input).__name__)}")
    T, B = (input.shape[1], input.shape[0]) if batch_first else tuple(input.shape[:2])
    lengths = _checked_lengths(lengths, B, T)
    order = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise ValueError(f"pack_padded_sequence: lengths must be in decreasing order when "
                             f"enforce_sorted=True, got {lengths}; pass enforce_sorted=False "
                             f"to have the batch sorted")
    else:
        order = sorted(range(B), key=lambda b: -lengths[b])     # stable: ties keep their order
        lengths = [lengths[b] for b in order]
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    steps, rows = _packed_positions(batch_sizes)
    if order is not None:
        rows = [order[b] for b in rows]
    index = (index_tensor(rows, input), index_tensor(steps, input)) if batch_first else \
        (index_tensor(steps, input), index_tensor(rows, input))
    sorted_indices = unsorted_indices = None
    if order is not None:
        inverse = [0] * B
        for position, b in enumerate(order):
            inverse[b] = position
        sorted_indices, unsorted_indices = tensor(order), tensor(inverse)
    return PackedSequence(input[index], tensor(batch_sizes), sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: ``(padded, lengths)``, padded (T, B, *) (or
    (B, T, *)) with ``padding_value`` after each sequence's end, in the batch order given
    to packing; ``total_length`` pads T further (it may not be shorter than the longest)."""
    padded, lengths = padded_in_sorted_order(sequence, padding_value, total_length)
    if sequence.unsorted_indices is not None:
        padded = padded[:, sequence.unsorted_indices]
        lengths = [lengths[i] for i in sequence.unsorted_indices.tolist()]
    return (padded.transpose(0, 1) if batch_first else padded), tensor(lengths)


def padded_in_sorted_order(sequence, padding_value=0.0, total_length=None):
    """(padded (T, B, *) in the packed, longest-first batch order, the lengths in that order):
    what a recurrent layer runs on."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"expected a PackedSequence, got {type(sequence).__name__}")
    batch_sizes = [int(n) for n in sequence.batch_sizes.tolist()]
    T, B, data = len(batch_sizes), batch_sizes[0], sequence.data
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is shorter than "
                             f"the longest sequence ({T} steps)")
        T = total_length
    lengths = [sum(1 for n in batch_sizes if n > b) for b in range(B)]
    end = data.shape[0]                     # the padding row, appended after the data
    index = [[end] * B for _ in range(T)]
    for position, (t, b) in enumerate(zip(*_packed_positions(batch_sizes))):
        index[t][b] = position
    return cat([data, _filled(data, padding_value)], 0)[index_tensor(index, data)], lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0):
    """Stack tensors (L_i, *) of different lengths into (max L, B, *) (or (B, max L, *)),
    each padded with ``padding_value`` after its end."""
    if not sequences or not all(isinstance(s, Tensor) and s.ndim >= 1 for s in sequences):
        raise ValueError("pad_sequence: needs a non-empty list of tensors of shape (L, *)")
    lengths = [s.shape[0] for s in sequences]
    end, T = sum(lengths), max(lengths)
    index, offset = [[end] * len(sequences) for _ in range(T)], 0
    for b, n in enumerate(lengths):
        for t in range(n):
            index[t][b] = offset + t
        offset += n
    padded = cat(list(sequences) + [_filled(sequences[0], padding_value)], 0)[index_tensor(index, sequences[0])]
    return padded.transpose(0, 1) if batch_first else padded


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *): ``pack_padded_sequence(pad_sequence(...), lengths)``."""
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def _packed_positions(batch_sizes):
    """(time steps, batch rows) of each row of the packed data, in the packed batch order."""
    steps, rows = [], []
    for t, n in enumerate(batch_sizes):
        steps += [t] * n
        rows += range(n)
    return steps, rows


def _checked_lengths(lengths, B, T):
    if isinstance(lengths, Tensor):
        lengths = lengths.tolist()
    try:
        values = [int(n) for n in lengths]
    except (TypeError, ValueError):
        raise TypeError(f"pack_padded_sequence: lengths must be integers, one per sequence, "
                        f"got {lengths!r}") from None
    if len(values) != B:
        raise ValueError(f"pack_padded_sequence: got {len(values)} lengths for a batch of {B} "
                         f"sequences")
    bad = [n for n in values if not 1 <= n <= T]
    if bad:
        raise ValueError(f"pack_padded_sequence: every length must be in 1..{T} (the padded "
                         f"length), got {bad[0]}")
    return values


def index_tensor(values, like):
    """An int64 index tensor of ``values`` on ``like``'s device."""
    return tensor(values).to(like.device)


def _filled(like, value):
    """One row shaped like ``like``'s rows, filled with ``value`` in its dtype (no gradient)."""
    xp = backend.get_array_module(like.array)
    return plain(xp.full((1,) + tuple(like.shape[1:]), value, dtype=like.dtype))
