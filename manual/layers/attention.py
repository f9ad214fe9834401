"""Scaled dot-product attention, and multi-head self-attention built on it.

ScaledDotProductAttention, q ``(N, ..., Tq, d)``, k ``(N, ..., Tk, d)``, v ``(N, ..., Tk, dv)``
(``...``: e.g. the heads), key_padding_mask ``(N, Tk)`` bool, True = ignore that key:

    forward    S = q kᵀ / √d                                   (N, ..., Tq, Tk)
               P = softmax_j(S), with P[..., i, j] = 0 exactly where key j is masked
                   (padded, or j > i when causal: torch's top-left causal mask)
               out = P v                                       (N, ..., Tq, dv)
    backward   ∂v = Pᵀ ∂out,  ∂P = ∂out vᵀ,  ∂S = P ⊙ (∂P − Σ_j ∂P ⊙ P)
               ∂q = ∂S k / √d,  ∂k = ∂Sᵀ q / √d

A masked entry of P is 0, so ∂S is 0 there too: the mask needs no step of its
own in the backward. A query whose every key is masked has no softmax (torch
gives NaN); it is refused before anything is computed.

MultiheadAttention (self-attention, batch first), x ``(N, T, E)``, H heads of E/H:

    forward    q = x W_q + b_q,  k = x W_k + b_k,  v = x W_v + b_v        (N, T, E), W (E, E) (in, out)
               heads: (N, T, E) → (N, H, T, E/H), head h the columns h·E/H … (h+1)·E/H (torch's view)
               a = attention(q, k, v) per head, merged back to (N, T, E)
               out = a W_o + b_o
    backward   ∂a = ∂out W_oᵀ,  ∂W_o = aᵀ ∂out,  ∂b_o = Σ ∂out
               ∂q, ∂k, ∂v from the attention's backward (merged to (N, T, E))
               ∂W_q = xᵀ ∂q, ∂b_q = Σ ∂q (likewise k, v)
               ∂x = ∂q W_qᵀ + ∂k W_kᵀ + ∂v W_vᵀ

torch's ``in_proj_weight`` is ``concat([W_q.T, W_k.T, W_v.T])`` (3E, E), ``out_proj.weight = W_o.T``.
"""

import math

import numpy as np

from .base import Layer, check_count, fan_in_uniform
from .linear import SUM_CHAIN, affine, affine_backward


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def attention_mask(key_padding_mask, causal, n, tq, tk, ndim):
    """The bool mask (True = masked) broadcastable to S ``(N, ..., Tq, Tk)`` of ``ndim`` axes, or
    None; ValueError if a query would have every key masked."""
    if key_padding_mask is None and not causal:
        return None
    mask = np.zeros((n, tq, tk), bool)
    if key_padding_mask is not None:
        mask |= key_padding_mask[:, None, :]
    if causal:
        mask |= np.triu(np.ones((tq, tk), bool), 1)
    full = mask.all(axis=-1)
    if full.any():
        sample, query = (int(i) for i in np.argwhere(full)[0])
        raise ValueError(
            f"every key is masked for query {query} of sample {sample} (key_padding_mask"
            f"{' and the causal mask' if causal else ''}): its softmax has no entries; "
            "expected at least one key left unmasked for every query"
        )
    return mask.reshape(n, *(1,) * (ndim - 3), tq, tk)


def check_key_padding_mask(mask, n, tk):
    """A bool ``(N, Tk)`` array, or None."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"key_padding_mask: expected a bool array (True = ignore that key), got {mask.dtype}")
    if mask.shape != (n, tk):
        raise ValueError(f"key_padding_mask: expected shape (N, Tk) = {(n, tk)}, got {mask.shape}")
    return mask


def attention_forward(q, k, v, mask):
    """``(out, cache)``: softmax(q kᵀ / √d, masked) v; mask bool (True = masked) or None."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    S = q @ k.swapaxes(-1, -2)
    S *= scale
    if mask is None:
        P = np.exp(S - S.max(axis=-1, keepdims=True))
    else:
        keep = ~mask
        # the max and the exp over the kept keys only: masked entries are 0, with no exp(−inf)
        top = np.max(S, axis=-1, keepdims=True, where=keep, initial=-np.inf)
        np.subtract(S, top, out=S)
        P = np.exp(S, out=np.zeros_like(S), where=keep)
    P /= P.sum(axis=-1, keepdims=True)
    return P @ v, (P, q, k, v, scale)


def attention_backward(dout, cache):
    """``(dq, dk, dv)`` from ``dout`` ``(N, ..., Tq, dv)``."""
    P, q, k, v, scale = cache
    dv = P.swapaxes(-1, -2) @ dout
    dP = dout @ v.swapaxes(-1, -2)
    dS = dP - (dP * P).sum(axis=-1, keepdims=True)
    dS *= P
    dS *= scale  # S = q kᵀ / √d
    return dS @ k, dS.swapaxes(-1, -2) @ q, dv


def split_inputs(x, names):
    """``(inputs, tupled)``: x as a tuple of len(names) or fewer leading inputs, padded with None."""
    tupled = isinstance(x, tuple)
    given = x if tupled else (x,)
    return given + (None,) * (len(names) - len(given)), tupled


class ScaledDotProductAttention(Layer):
    """``F.scaled_dot_product_attention(q, k, v, is_causal=causal)`` as a layer without params:
    input ``(q, k, v)`` or ``(q, k, v, key_padding_mask)`` (see the module's docstring); the
    backward returns ``(dq, dk, dv)`` (and None for the mask)."""

    kind = "ScaledDotProductAttention"
    inputs = ("q", "k", "v", "key_padding_mask")

    def __init__(self, causal=False):
        self.causal = _check_flag("causal", causal)

    def config(self):
        return {"causal": self.causal}

    def output_shape(self, shape):
        """``shape``: the per-sample shapes of (q, k, v[, mask]); returns v's with Tq."""
        if shape is None:
            return None
        if not (
            isinstance(shape, tuple) and len(shape) in (3, 4) and all(isinstance(s, tuple) for s in shape)
        ):
            raise ValueError(
                f"expected the per-sample shapes of (q, k, v) or (q, k, v, key_padding_mask), got {shape}"
            )
        q, k, v = shape[:3]
        ok = len(q) == len(k) == len(v) >= 2 and q[:-2] == k[:-2] == v[:-2]
        if not ok or q[-1] != k[-1] or k[-2] != v[-2]:
            raise ValueError(
                "expected q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) with the same leading axes, "
                f"got per-sample shapes q {q}, k {k}, v {v}"
            )
        if len(shape) == 4 and shape[3] is not None and tuple(shape[3]) != (k[-2],):
            raise ValueError(
                f"key_padding_mask: expected per-sample shape (Tk,) = ({k[-2]},), got {shape[3]}"
            )
        return (*q[:-1], v[-1])

    def _checked(self, x):
        if not isinstance(x, tuple) or len(x) not in (3, 4):
            raise ValueError(
                "expected a tuple (q, k, v) or (q, k, v, key_padding_mask), got "
                + (f"a tuple of {len(x)}" if isinstance(x, tuple) else type(x).__name__)
            )
        (q, k, v, mask), _ = split_inputs(x, self.inputs)
        arrays = [np.asarray(a) for a in (q, k, v)]
        if any(a.dtype.kind != "f" for a in arrays) or len({a.dtype for a in arrays}) != 1:
            raise TypeError(f"q, k, v: expected floats of one dtype, got {[str(a.dtype) for a in arrays]}")
        if arrays[0].ndim < 3:
            raise ValueError(f"q: expected (N, ..., T, d), at least 3 axes, got shape {arrays[0].shape}")
        self.output_shape(tuple(a.shape[1:] for a in arrays))
        if not arrays[0].shape[0] == arrays[1].shape[0] == arrays[2].shape[0]:
            raise ValueError(f"q, k, v: expected one batch, got shapes {[a.shape for a in arrays]}")
        q, k, v = arrays
        mask = check_key_padding_mask(mask, k.shape[0], k.shape[-2])
        mask = attention_mask(mask, self.causal, q.shape[0], q.shape[-2], k.shape[-2], q.ndim)
        return q, k, v, mask, len(x)

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        q, k, v, mask, count = self._checked(x)
        out, cache = attention_forward(q, k, v, mask)
        return out, (cache, count)

    def backward(self, dout, cache):
        cache, count = cache
        grads = attention_backward(dout, cache)
        return grads + (None,) * (count - 3), {}


class MultiheadAttention(Layer):
    """``nn.MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True)`` as self-attention
    (query = key = value = x), with ``causal`` for torch's causal ``attn_mask``: input x ``(N, T, E)``
    or ``(x, key_padding_mask)``. Params ``W_q, W_k, W_v, W_o`` (E, E) in (in, out) orientation and
    ``b_q, b_k, b_v, b_o`` (E,); initialized as torch does: the stacked (3E, E) in_proj by
    xavier_uniform (U(±√(6 / 4E))), out_proj's weight U(±1/√E), every bias 0."""

    kind = "MultiheadAttention"
    inputs = ("x", "key_padding_mask")

    def __init__(self, embed_dim, num_heads, causal=False, bias=True):
        self.embed_dim = check_count("embed_dim", embed_dim)
        self.num_heads = check_count("num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"embed_dim: expected a multiple of num_heads ({self.num_heads}), got {self.embed_dim}"
            )
        self.causal = _check_flag("causal", causal)
        self.bias = _check_flag("bias", bias)

    def config(self):
        return {
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "causal": self.causal,
            "bias": self.bias,
        }

    def param_shapes(self):
        E = self.embed_dim
        shapes = {name: (E, E) for name in ("W_q", "W_k", "W_v", "W_o")}
        if self.bias:
            shapes.update({name: (E,) for name in ("b_q", "b_k", "b_v", "b_o")})
        return shapes

    def init_params(self, rng, dtype):
        E = self.embed_dim
        bound = math.sqrt(6 / (E + 3 * E))  # xavier_uniform on torch's (3E, E) in_proj_weight
        in_proj = rng.uniform(-bound, bound, size=(3 * E, E)).astype(dtype)
        params = {name: np.ascontiguousarray(in_proj[i * E : (i + 1) * E].T) for i, name in enumerate("qkv")}
        params = {f"W_{name}": w for name, w in params.items()}
        params["W_o"] = np.ascontiguousarray(fan_in_uniform(rng, (E, E), E, dtype).T)
        if self.bias:
            params.update({name: np.zeros(E, dtype) for name in ("b_q", "b_k", "b_v", "b_o")})
        return params

    def output_shape(self, shape):
        if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):
            if len(shape) > 2:
                raise ValueError(f"expected the per-sample shapes of x or (x, key_padding_mask), got {shape}")
            x_shape = shape[0]
            if (
                len(shape) == 2
                and shape[1] is not None
                and len(x_shape) == 2
                and tuple(shape[1]) != x_shape[:1]
            ):
                raise ValueError(
                    f"key_padding_mask: expected per-sample shape (T,) = ({x_shape[0]},), got {shape[1]}"
                )
            return self.output_shape(x_shape)
        if shape is None:
            return (None, self.embed_dim)
        if len(shape) != 2 or shape[-1] not in (None, ..., self.embed_dim):
            raise ValueError(
                f"expected inputs of shape (N, T, {self.embed_dim}) (batch first, embed_dim last), "
                f"got per-sample shape {shape}"
            )
        return shape

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        if isinstance(x, tuple) and len(x) not in (1, 2):
            raise ValueError(f"expected x or a tuple (x, key_padding_mask), got a tuple of {len(x)}")
        (x, mask), tupled = split_inputs(x, self.inputs)
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(f"x: expected floats, got {x.dtype}")
        if x.ndim != 3:
            raise ValueError(f"x: expected (N, T, {self.embed_dim}), got shape {x.shape}")
        self.output_shape(x.shape[1:])
        N, T, E = x.shape
        mask = attention_mask(check_key_padding_mask(mask, N, T), self.causal, N, T, T, 4)
        rows = x.reshape(-1, E)
        q, k, v = (self._project(rows, params, n) for n in "qkv")
        a, attention = attention_forward(*(self._heads(t, N, T) for t in (q, k, v)), mask)
        a = self._merged(a)
        out = self._project(a, params, "o")
        return out.reshape(N, T, E), (rows, a, attention, params, tupled, (N, T))

    def backward(self, dout, cache):
        rows, a, attention, params, tupled, (N, T) = cache
        d_out = dout.reshape(-1, self.embed_dim)
        grads = self._project_backward(d_out, a, "o")
        heads = attention_backward(self._heads(d_out @ params["W_o"].T, N, T), attention)
        dx = np.zeros_like(rows)
        for name, d in zip("qkv", heads):
            d = self._merged(d)
            grads.update(self._project_backward(d, rows, name))
            dx += d @ params[f"W_{name}"].T
        grads = {k: grads[k] for k in self.param_shapes()}
        dx = dx.reshape(N, T, self.embed_dim)
        return ((dx, None) if tupled else dx), grads

    def _project(self, rows, params, name):
        W = params[f"W_{name}"]
        return affine(rows, W, params.get(f"b_{name}"), np.empty((len(rows), self.embed_dim), rows.dtype))

    def _project_backward(self, dz, rows, name):
        """Linear's ∂W = xᵀ ∂z and ∂b = Σ ∂z (``linear.affine_backward``)."""
        grads = {f"W_{name}": np.empty((self.embed_dim, self.embed_dim), dz.dtype)}
        if self.bias:
            grads[f"b_{name}"] = np.empty(self.embed_dim, dz.dtype)
        work = np.empty_like(dz) if self.bias and len(dz) > SUM_CHAIN else None
        affine_backward(dz, rows, None, grads[f"W_{name}"], grads.get(f"b_{name}"), None, work)
        return grads

    def _heads(self, t, N, T):
        """(N·T, E) → (N, H, T, E/H)."""
        return t.reshape(N, T, self.num_heads, -1).transpose(0, 2, 1, 3)

    def _merged(self, t):
        """(N, H, T, E/H) → (N·T, E)."""
        N, H, T, hd = t.shape
        return t.transpose(0, 2, 1, 3).reshape(N * T, H * hd)
