"""Embedding: out = W[idx] (no rounding); ∂L/∂W[k] sums ∂L/∂out over the positions of k.
PositionalEmbedding: out = x + W[:T]; ∂L/∂x = ∂L/∂out, ∂L/∂W[t] = Σ_n ∂L/∂out[n, t]."""

import numpy as np

from .. import rounding
from ..rounding import Tracked, chain, lift

KINDS = ("Embedding", "PositionalEmbedding")


def forward(layer, params, buffers, x, train, mask):
    if layer["kind"] == "PositionalEmbedding":
        x = lift(x)
        W = np.asarray(params["W"], np.float64)
        return x + W[: x.shape[1]], {}, (x.shape[1], W.shape)
    idx = np.asarray(x)
    W = np.asarray(params["W"], np.float64)
    return Tracked(W[idx]), {}, idx


def backward(layer, dout, cache):
    if layer["kind"] == "PositionalEmbedding":
        steps, shape = cache
        rows = dout.sum(axis=0)
        zeros = Tracked(np.zeros((shape[0] - steps, shape[1])))
        return dout, {"W": rounding.concatenate([rows, zeros], axis=0)}
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
