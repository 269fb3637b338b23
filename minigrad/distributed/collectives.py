"""Collectives on tensors: every rank calls the same one, and each gets the combined result.

    all_reduce(t, op=SUM)   t <- t_0 + t_1 + ... + t_{N-1}         (in place, every rank)
    broadcast(t, src=0)     t <- t_src                              (in place)
    all_gather(list, t)     list[r] <- t_r                          (new tensors)
    barrier()               no rank leaves before every rank has arrived

They work on a tensor's values outside the graph (as PyTorch's ``torch.distributed``):
the result is recorded as an in-place change (the version counter moves), so a graph
that saved the old values refuses to backpropagate through them.
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor, plain
from .process_group import transport
from .reduce_op import ReduceOp, check_op


def _check_tensor(tensor, caller):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{caller}: expected a minigrad Tensor, got {type(tensor).__name__}")
    return tensor


def all_reduce(tensor, op=ReduceOp.SUM):
    """Combine ``tensor`` across all ranks with ``op``, in place on every rank."""
    _check_tensor(tensor, "all_reduce")
    check_op(op, "all_reduce")
    if op == ReduceOp.AVG and tensor.dtype.kind != "f":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got dtype "
                        f"{tensor.dtype}")
    group = transport("all_reduce")
    array = _contiguous(tensor.array)
    group.allreduce(array, op)
    _write_back(tensor, array)
    return None


def broadcast(tensor, src=0):
    """Give every rank rank ``src``'s values of ``tensor`` (same shape and dtype everywhere)."""
    _check_tensor(tensor, "broadcast")
    group = transport("broadcast")
    if not isinstance(src, int) or not 0 <= src < group.size:
        raise ValueError(f"broadcast: src must be a rank in 0..{group.size - 1}, got {src!r}")
    array = _contiguous(tensor.array)
    group.broadcast(array, src)
    _write_back(tensor, array)
    return None


def all_gather(tensor_list, tensor):
    """Fill ``tensor_list`` (a list of world-size tensors) with every rank's ``tensor``, as
    PyTorch's ``all_gather(tensor_list, tensor)``. Returns None."""
    _check_tensor(tensor, "all_gather")
    group = transport("all_gather")
    if not isinstance(tensor_list, list) or len(tensor_list) != group.size:
        raise ValueError(f"all_gather: tensor_list must be a list of {group.size} tensors (one "
                         f"per rank), got {type(tensor_list).__name__} of length "
                         f"{len(tensor_list) if hasattr(tensor_list, '__len__') else '?'}")
    gathered = group.allgather(_contiguous(tensor.array))
    for r in range(group.size):
        target = tensor_list[r]
        if isinstance(target, Tensor) and tuple(target.shape) == tuple(tensor.shape):
            _write_back(target, gathered[r])
        else:
            tensor_list[r] = plain(gathered[r].copy())
    return None


def barrier():
    """Wait until every rank has reached this call."""
    transport("barrier").barrier()


def _contiguous(array):
    if array.flags.c_contiguous:
        return array
    return backend.get_array_module(array).ascontiguousarray(array)


def _write_back(tensor, array):
    if array is not tensor.array:
        tensor.array[...] = array
    tensor._bump_version()
