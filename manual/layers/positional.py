"""PositionalEmbedding: a learned vector per position, added to each sample's sequence.

    forward    out[n, t, :] = x[n, t, :] + W[t, :]       x (N, T, dim), T <= num_positions
    backward   ∂L/∂x = ∂L/∂out,  ∂L/∂W[t] = Σₙ ∂L/∂out[n, t]  (rows T.. of W: 0)

GPT's learned positions (``wpe``) as a layer of its own, so that a token's
Embedding and its position's add up in a ``Sequential``. torch has no module for
it (GPT-2 writes ``tok_emb + pos_emb``); ``references`` writes it that way.
"""

import numpy as np

from .base import Layer, check_count


class PositionalEmbedding(Layer):
    """Param ``W`` (num_positions, embedding_dim), drawn from N(0, 1) as ``nn.Embedding``'s weight."""

    kind = "PositionalEmbedding"

    def __init__(self, num_positions, embedding_dim):
        self.num_positions = check_count("num_positions", num_positions)
        self.embedding_dim = check_count("embedding_dim", embedding_dim)

    def config(self):
        return {"num_positions": self.num_positions, "embedding_dim": self.embedding_dim}

    def param_shapes(self):
        return {"W": (self.num_positions, self.embedding_dim)}

    def init_params(self, rng, dtype):
        return {"W": rng.standard_normal((self.num_positions, self.embedding_dim)).astype(dtype)}

    def output_shape(self, shape):
        expected = f"(T, {self.embedding_dim}) with T <= {self.num_positions} (num_positions)"
        if shape is None or ... in shape:
            return shape
        if len(shape) != 2:
            raise ValueError(f"expected per-sample shape {expected}, got {shape}")
        t, dim = shape
        if (dim is not None and dim != self.embedding_dim) or (t is not None and t > self.num_positions):
            raise ValueError(f"expected per-sample shape {expected}, got {shape}")
        return shape

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        self.output_shape(x.shape[1:])
        return x + params["W"][: x.shape[1]], x.shape[1]

    def backward(self, dout, cache):
        dW = np.zeros((self.num_positions, self.embedding_dim), dout.dtype)
        dW[:cache] = dout.sum(axis=0)
        return dout, {"W": dW}
