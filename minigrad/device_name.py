"""``minigrad.device("cuda:0")``: PyTorch's device object, so ``torch.device(...)`` habits work.

It is a string (``"cpu"``, ``"cuda:0"``) with PyTorch's ``.type`` and ``.index``, so it goes
wherever minigrad takes a device name and compares equal to that name.
"""
from __future__ import annotations

from . import backend


class device(str):  # noqa: N801 - torch.device's name
    """``device("cuda")``, ``device("cuda", 1)``, ``device("cpu")``."""

    def __new__(cls, kind, index=None):
        if isinstance(kind, device):
            return kind
        if not isinstance(kind, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got "
                            f"{type(kind).__name__} {kind!r}")
        if index is not None:
            if ":" in kind:
                raise ValueError(f"device: {kind!r} already names an index; got index={index!r} too")
            if not isinstance(index, int) or index < 0:
                raise ValueError(f"device: index must be a non-negative int, got {index!r}")
            kind = f"{kind}:{index}"
        backend.parse_device(kind)  # raises ValueError naming a bad device
        return super().__new__(cls, kind)

    @property
    def type(self):
        return self.partition(":")[0]

    @property
    def index(self):
        _, colon, number = self.partition(":")
        return int(number) if colon else None

    def __repr__(self):
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"
