"""Table lookup (``nn.Embedding``, ``F.embedding``): y = W[idx], and its backward, a
scatter-add of rows, as a Function of its own so that double backward works."""
from __future__ import annotations

from .. import backend
from ..function import Function, _raise_modified
from ..grad_mode import STATE
from ..tensor import plain


class Embedding(Function):
    """y = W[idx]: row idx of the table for every index.

    dL/dW adds each gy row into the row it came from (repeated indices accumulate),
    with ``backend.summed_rows`` - one pass, no dense one-hot matrix.
    """

    label = "embedding"
    new_grads = True      # a plain backward makes the table's gradient afresh

    def __init__(self, indices, index_tensor=None, padding_idx=None):
        self.indices, self.padding_idx = indices, padding_idx   # that row gets no gradient
        # the index Tensor and its version: an in-place edit after forward must not go unseen
        self.index_tensor = index_tensor
        self.index_version = None if index_tensor is None else index_tensor._version

    def forward(self, weight):
        self.num = weight.shape[0]
        return weight[self.indices]

    def backward(self, gy):
        if self.index_tensor is not None and self.index_tensor._version != self.index_version:
            _raise_modified(self, self.index_tensor, self.index_version)
        if not STATE.grad_enabled:  # no graph of the gradient wanted: the scatter on arrays
            return plain(_rows_added(gy.array, self.indices, self.num, self.padding_idx))
        return EmbeddingGrad(self.indices, self.num, self.padding_idx)(gy)


def _rows_added(gy, indices, num, padding_idx=None):
    """zeros(num, dim) with row n of gy (flattened to (N, dim)) added at row indices[n];
    the row ``padding_idx`` stays zero."""
    gw = backend.summed_rows(indices.reshape(-1), gy.reshape(-1, gy.shape[-1]), num)
    if padding_idx is not None:
        gw[padding_idx] = 0
    return gw


class EmbeddingGrad(Function):
    """The backward of ``Embedding``: gW = zeros(num, dim) with gy's rows added at idx.
    Its own backward gathers again, so double backward works."""

    label = "embedding_grad"

    def __init__(self, indices, num, padding_idx=None):
        self.indices, self.num, self.padding_idx = indices, num, padding_idx

    def forward(self, gy):
        return _rows_added(gy, self.indices, self.num, self.padding_idx)

    def backward(self, ggw):
        gathered = Embedding(self.indices)(ggw)
        if self.padding_idx is None:
            return gathered
        kept = (self.indices != self.padding_idx)[..., None]   # padding positions passed nothing on
        return gathered * kept.astype(gathered.dtype)
