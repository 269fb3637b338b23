"""``Embedding``: a learnable lookup table, row i is the vector of token i."""
from __future__ import annotations

from minigrad import backend
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

    Shapes: int64 indices (...) -> (..., embedding_dim).
    Parameter: ``weight`` (num_embeddings, embedding_dim), initialised N(0, 1) as PyTorch.
    The backward adds each output gradient into its row (repeated tokens accumulate).
    """

    def __init__(self, num_embeddings, embedding_dim, dtype=None, device=None):
        super().__init__()
        positive_int("Embedding", "num_embeddings", num_embeddings)
        positive_int("Embedding", "embedding_dim", embedding_dim)
        dtype, device = factory_kwargs.check("Embedding", dtype, device)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        dtype = dtype or backend.default_float
        self.weight = Parameter(backend.host_numpy().empty((num_embeddings, embedding_dim), dtype))
        self.reset_parameters()
        factory_kwargs.place(self, None, device)

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
