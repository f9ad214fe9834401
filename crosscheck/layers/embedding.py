"""Embedding: out = W[idx] (no rounding); ∂L/∂W[k] sums ∂L/∂out over the positions of k."""

import numpy as np

from ..rounding import Tracked, chain

KINDS = ("Embedding",)


def forward(layer, params, buffers, x, train, mask):
    idx = np.asarray(x)
    W = np.asarray(params["W"], np.float64)
    return Tracked(W[idx]), {}, idx


def backward(layer, dout, cache):
    idx = cache.reshape(-1)
    rows = dout.reshape(-1, layer["embedding_dim"])
    v = np.zeros((layer["num_embeddings"], layer["embedding_dim"]))
    e = np.zeros_like(v)
    mags = np.zeros_like(v)
    np.add.at(v, idx, rows.v)
    np.add.at(e, idx, rows.e)
    np.add.at(mags, idx, np.abs(rows.v))
    counts = np.bincount(idx, minlength=layer["num_embeddings"])[:, None]
    return None, {"W": Tracked(v, e + np.vectorize(chain)(np.maximum(counts, 1)) * mags)}
