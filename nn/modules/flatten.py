"""``Flatten``: (N, C, H, W) -> (N, C·H·W), between convolutions and a ``Linear``."""
from __future__ import annotations

from .module import Module


class Flatten(Module):
    """Merge dims ``start_dim`` .. ``end_dim`` into one (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
