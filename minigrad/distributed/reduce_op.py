"""``ReduceOp``: how ``all_reduce`` combines the ranks' values, element by element."""
from __future__ import annotations


class ReduceOp:
    """The reduction of ``all_reduce(tensor, op=ReduceOp.SUM)``, named as PyTorch's.

    ``AVG`` is ``SUM`` divided by the world size (floating-point tensors only): what
    data-parallel training does to gradients.
    """

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"

    ALL = (SUM, PRODUCT, MIN, MAX, AVG)


def check_op(op, caller):
    if op not in ReduceOp.ALL:
        raise ValueError(f"{caller}: op must be one of ReduceOp.SUM, PRODUCT, MIN, MAX, AVG "
                         f"(the strings {list(ReduceOp.ALL)}), got {op!r}")
    return op
