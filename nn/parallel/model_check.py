"""Is the model the same on every rank? Checked once, when DistributedDataParallel wraps it.

Two ranks that built different models (another ``--hidden``, another layer) would
average gradients of unrelated tensors, or hang when their buckets differ in size. Each
rank describes every parameter and buffer as a row of integers: kind, a checksum of the
name, dtype, shape. The rows are gathered from every rank as one integer array (no
pickling) and compared with rank 0's; the first row that differs is named in the error,
raised on every rank alike.
"""
from __future__ import annotations

import zlib

from minigrad import backend

MAX_DIMS = 8
DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
KINDS = ("parameter", "buffer")


def describe(kind, name, tensor):
    """[kind, crc32(name), dtype code, ndim, dim_0, ..., dim_7] for one tensor."""
    shape = tuple(tensor.shape)
    dims = list(shape[:MAX_DIMS]) + [0] * (MAX_DIMS - min(len(shape), MAX_DIMS))
    dtype = str(tensor.dtype)
    code = DTYPES.index(dtype) if dtype in DTYPES else len(DTYPES)
    return [KINDS.index(kind), zlib.crc32(name.encode()), code, len(shape)] + dims


def _render(row):
    kind, _, code, ndim = row[:4]
    dtype = DTYPES[code] if code < len(DTYPES) else "another dtype"
    return f"a {KINDS[kind]} of shape {tuple(int(d) for d in row[4:4 + ndim])} {dtype}"


def check_same_model(transport, named_tensors):
    """``named_tensors``: [(kind, name, tensor)] in registration order, the same on every
    rank. Raises ValueError (on every rank) naming the first one that differs."""
    rows = [describe(kind, name, t) for kind, name, t in named_tensors]
    width = 4 + MAX_DIMS
    count = backend.as_array([len(rows), -len(rows)], dtype=backend.int64)
    transport.allreduce(count, "max")               # [most rows, -fewest rows] on any rank
    most = int(count[0])
    padded = rows + [[-1] * width] * (most - len(rows))
    table = backend.as_array(padded, dtype=backend.int64).reshape(most, width)
    gathered = backend.to_host(transport.allgather(table))      # (world, most, width)
    for j in range(most):
        reference = gathered[0][j].tolist()
        for rank in range(1, transport.size):
            other = gathered[rank][j].tolist()
            if other != reference:
                raise ValueError(_mismatch_message(j, named_tensors, reference, rank, other))


def _mismatch_message(j, named_tensors, reference, rank, other):
    mine = (f"'{named_tensors[j][1]}'" if j < len(named_tensors) else "(none)")
    zero = "no tensor" if reference[0] < 0 else _render(reference)
    theirs = "no tensor" if other[0] < 0 else _render(other)
    if reference[0] >= 0 and other[0] >= 0 and reference[1] != other[1] and reference[2:] == other[2:]:
        theirs += " under another name"
    return (f"DistributedDataParallel: the models differ across ranks at tensor #{j} (here "
            f"{mine}): rank 0 has {zero}, rank {rank} has {theirs}. Every rank must build the "
            "same model (same flags, same code) before wrapping it.")
