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


class PositionalEmbedding(Layer):
    """A learned table of positions added to x (GPT's ``wpe``; torch has no module of its own:
    ``x + nn.Embedding(max_len, dim)(torch.arange(T))``): param ``W`` (max_len, dim), drawn from
    N(0, 1) as ``nn.Embedding`` draws its weight.

        forward    out[n, t] = x[n, t] + W[t]            x (N, T, dim), T ≤ max_len → (N, T, dim)
        backward   ∂L/∂x = ∂L/∂out,  ∂L/∂W[t] = Σ_n ∂L/∂out[n, t]  (t < T; the rows past T get 0)
    """

    kind = "PositionalEmbedding"

    def __init__(self, max_len, dim):
        self.max_len = check_count("max_len", max_len)
        self.dim = check_count("dim", dim)

    def config(self):
        return {"max_len": self.max_len, "dim": self.dim}

    def param_shapes(self):
        return {"W": (self.max_len, self.dim)}

    def init_params(self, rng, dtype):
        return {"W": rng.standard_normal((self.max_len, self.dim)).astype(dtype)}

    def output_shape(self, shape):
        if shape is None:
            return (None, self.dim)
        unknown_rank = ... in shape  # after an Embedding of unknown index shape: (..., dim)
        steps = shape[0] if len(shape) == 2 and not unknown_rank else None
        bad_rank = len(shape) != 2 and not unknown_rank
        if bad_rank or shape[-1] not in (None, self.dim) or (steps is not None and steps > self.max_len):
            raise ValueError(
                f"expected inputs of shape (N, T, {self.dim}) with T <= {self.max_len} (max_len), "
                f"got per-sample shape {shape}"
            )
        return shape

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        steps = x.shape[1]
        return x + params["W"][:steps], (steps, params["W"].shape)

    def backward(self, dout, cache):
        steps, shape = cache
        dW = np.zeros(shape, dout.dtype)
        np.sum(dout, axis=0, out=dW[:steps])
        return dout, {"W": dW}
