"""Attention: S = q kᵀ / √d, P = softmax(S) with masked entries exactly 0, out = P v; the backward
∂v = Pᵀ ∂out, ∂S = P ⊙ (∂P − Σ ∂P ⊙ P) with ∂P = ∂out vᵀ, ∂q = ∂S k / √d, ∂k = ∂Sᵀ q / √d; and
MultiheadAttention's projections around it (Linear's products)."""

import math

import numpy as np

from .. import rounding
from ..rounding import Tracked, lift

KINDS = ("ScaledDotProductAttention", "MultiheadAttention")


def _inputs(x, count):
    given = tuple(x) if isinstance(x, (tuple, list)) else (x,)
    return given + (None,) * (count - len(given)), isinstance(x, (tuple, list)), len(given)


def hidden_mask(pad, causal, n, tq, tk, ndim):
    """True where key j is hidden from query i: padded, or j > i when causal; (N, 1.., Tq, Tk)."""
    hidden = np.zeros((n, tq, tk), bool)
    if pad is not None:
        hidden |= np.asarray(pad, bool)[:, None, :]
    if causal:
        hidden |= np.triu(np.ones((tq, tk), bool), 1)
    return hidden.reshape(n, *(1,) * (ndim - 3), tq, tk)


def attend(q, k, v, hidden):
    scale = 1 / math.sqrt(q.shape[-1])
    S = (q @ k.swapaxes(-1, -2)) * scale
    hidden = np.broadcast_to(hidden, S.shape)
    # the shift by the row's max carries no error of its own: softmax(S − m) is the same for any m
    top = Tracked(np.max(S.v, axis=-1, keepdims=True, where=~hidden, initial=-np.inf))
    zero = Tracked(np.zeros(S.shape))
    shifted = rounding.where(hidden, zero, S - top)
    e = rounding.where(hidden, zero, rounding.exp(shifted))
    P = e / e.sum(axis=-1, keepdims=True)
    return P @ v, (P, q, k, v, scale)


def attend_backward(dout, cache):
    P, q, k, v, scale = cache
    dv = P.swapaxes(-1, -2) @ dout
    dP = dout @ v.swapaxes(-1, -2)
    dS = P * (dP - (dP * P).sum(axis=-1, keepdims=True)) * scale
    return dS @ k, dS.swapaxes(-1, -2) @ q, dv


def _project(rows, params, name, bias):
    z = rows @ lift(params[f"W_{name}"])
    return z + lift(params[f"b_{name}"]) if bias else z


def forward(layer, params, buffers, x, train, mask):
    if layer["kind"] == "ScaledDotProductAttention":
        (q, k, v, pad), _, count = _inputs(x, 4)
        q, k, v = lift(q), lift(k), lift(v)
        hidden = hidden_mask(pad, layer["causal"], q.shape[0], q.shape[-2], k.shape[-2], q.ndim)
        out, cache = attend(q, k, v, hidden)
        return out, {}, (cache, count)
    (x, pad), tupled, _ = _inputs(x, 2)
    x = lift(x)
    N, T, E = x.shape
    H, bias = layer["num_heads"], layer["bias"]
    rows = x.reshape(-1, E)

    def heads(t):
        return t.reshape(N, T, H, E // H).swapaxes(1, 2)

    qkv = [heads(_project(rows, params, n, bias)) for n in "qkv"]
    a, cache = attend(*qkv, hidden_mask(pad, layer["causal"], N, T, T, 4))
    a = a.swapaxes(1, 2).reshape(N * T, E)
    out = _project(a, params, "o", bias)
    return out.reshape(N, T, E), {}, (rows, a, cache, params, tupled, (N, T))


def backward(layer, dout, cache):
    if layer["kind"] == "ScaledDotProductAttention":
        cache, count = cache
        return attend_backward(dout, cache) + (None,) * (count - 3), {}
    rows, a, attention, params, tupled, (N, T) = cache
    E, H, bias = layer["embed_dim"], layer["num_heads"], layer["bias"]
    d_out = dout.reshape(-1, E)
    grads = {"W_o": a.T @ d_out}
    if bias:
        grads["b_o"] = d_out.sum(axis=0)
    da = (d_out @ lift(params["W_o"]).T).reshape(N, T, H, E // H).swapaxes(1, 2)
    dx = None
    for name, d in zip("qkv", attend_backward(da, attention)):
        d = d.swapaxes(1, 2).reshape(N * T, E)
        grads[f"W_{name}"] = rows.T @ d
        if bias:
            grads[f"b_{name}"] = d.sum(axis=0)
        term = d @ lift(params[f"W_{name}"]).T
        dx = term if dx is None else dx + term
    dx = dx.reshape(N, T, E)
    return ((dx, None) if tupled else dx), grads
