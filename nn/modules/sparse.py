"""``Embedding``: a learnable lookup table, row i is the vector of token i."""
from __future__ import annotations

from minigrad import backend
from minigrad.grad_mode import no_grad
from .. import functional as F
from .. import init
from . import factory_kwargs
from .arg_checks import positive_int
from .module import Module, Parameter


class Embedding(Module):
    """y = W[idx]: the same as one_hot(idx) @ W, without building the one-hot matrix.

    Args:
        num_embeddings: size of the vocabulary.
        embedding_dim: length of each vector.
        padding_idx: a padding token's row: initialised to zeros and never given a gradient,
            so it stays zero through training (as PyTorch).

    Shapes: int64 indices (...) -> (..., embedding_dim).
    Parameter: ``weight`` (num_embeddings, embedding_dim), initialised N(0, 1) as PyTorch.
    The backward adds each output gradient into its row (repeated tokens accumulate).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None, device=None):
        super().__init__()
        positive_int("Embedding", "num_embeddings", num_embeddings)
        positive_int("Embedding", "embedding_dim", embedding_dim)
        self.padding_idx = F.checked_padding_idx("Embedding", padding_idx, num_embeddings)
        dtype, device = factory_kwargs.check("Embedding", dtype, device)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        dtype = dtype or backend.default_float
        self.weight = Parameter(backend.host_numpy().empty((num_embeddings, embedding_dim), dtype))
        self.reset_parameters()
        factory_kwargs.place(self, None, device)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
