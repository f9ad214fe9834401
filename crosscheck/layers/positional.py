"""PositionalEmbedding: out = x + W[:T], one rounding; ∂W[t] sums ∂out[:, t] over the batch."""

import numpy as np

from ..rounding import Tracked, lift

KINDS = ("PositionalEmbedding",)


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    return x + lift(params["W"])[: x.shape[1]], {}, x.shape[1]


def backward(layer, dout, cache):
    rows = dout.sum(axis=0)
    shape = (layer["num_positions"], layer["embedding_dim"])
    v, e = np.zeros(shape), np.zeros(shape)
    v[:cache], e[:cache] = rows.v, rows.e
    return dout, {"W": Tracked(v, e)}
