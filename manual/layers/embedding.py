"""Embedding: a table lookup, W[idx] for integer indices of any shape.

    forward    out[..., :] = W[idx[...], :]         idx (N, ...) integers in [0, num) → (N, ..., dim)
    backward   ∂L/∂W[k] = Σ over every position where idx = k of ∂L/∂out   (repeats accumulate)

``dW[idx] += dout`` would keep one of each repeated index's rows (fancy-index
assignment does not accumulate): ``np.add.at`` adds them all. The indices have
no gradient (dx is None).
"""

import numpy as np

from ..checks import check_interval
from .base import Layer, check_count

# from this embedding_dim on, a row-by-row loop accumulates faster than np.add.at (docs/performance.md)
ROW_LOOP = 128


class Embedding(Layer):
    """``nn.Embedding(num_embeddings, embedding_dim)``: param ``W`` (num, dim), drawn from N(0, 1)
    as PyTorch draws ``weight`` (same orientation: W = weight)."""

    kind = "Embedding"
    takes_indices = True

    def __init__(self, num_embeddings, embedding_dim):
        self.num_embeddings = check_count("num_embeddings", num_embeddings)
        self.embedding_dim = check_count("embedding_dim", embedding_dim)

    def config(self):
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim}

    def param_shapes(self):
        return {"W": (self.num_embeddings, self.embedding_dim)}

    def init_params(self, rng, dtype):
        return {"W": rng.standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)}

    def output_shape(self, shape):
        return (..., self.embedding_dim) if shape is None else (*shape, self.embedding_dim)

    def check_indices(self, idx):
        """Integer indices in [0, num_embeddings); TypeError or ValueError naming the first bad one."""
        if idx.dtype.kind not in "iu":
            hint = (
                "booleans are not indices: np.flatnonzero(mask) gives the positions of True"
                if idx.dtype.kind == "b"
                else "floats are not indices: convert them with .astype(int) if they are whole numbers"
            )
            raise TypeError(f"expected integer indices, got dtype {idx.dtype} ({hint})")
        check_interval("expected indices", idx, 0, self.num_embeddings)

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        W = params["W"]
        return W[x], (x, W.shape)

    def backward(self, dout, cache):
        idx, shape = cache
        dW = np.zeros(shape, dout.dtype)
        rows, flat = idx.reshape(-1), dout.reshape(-1, shape[1])
        if shape[1] < ROW_LOOP:
            np.add.at(dW, rows, flat)
        else:  # np.add.at adds element by element: row by row is 5x faster at dim 1,024
            for i, k in enumerate(rows.tolist()):
                dW[k] += flat[i]
        return None, {"W": dW}
