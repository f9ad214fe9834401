"""Conv2d: out[n, o, i, j] = b[o] + Σ_{c,u,v} W[o, c, u, v] x̃[n, c, s_h i + u, s_w j + v], x̃ the
zero-padded input; the windows gathered by index (not the engine's strided view), the
products Tracked.

Each output sums C·k_h·k_w products and the bias, in an order each implementation chooses
(the bias first or last): a product over C·k_h·k_w + 1 terms, the bias's a column of ones.
∂L/∂W sums N·H'·W' products, ∂L/∂b N·H'·W' terms; an entry of ∂L/∂x sums, over the windows
that cover it, O products each: at most O·k_h·k_w terms (XLA's transposed convolution sums
them in one contraction, the engine one kernel offset at a time), so its bound takes the
chain of that many, over the magnitudes scattered back by index.
"""

import numpy as np

from ..rounding import Tracked, chain, lift

KINDS = ("Conv2d",)


def _pair(value):
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)


def _moved(t, axes):
    return Tracked(t.v.transpose(axes), t.e.transpose(axes))


def _geometry(layer, shape):
    """The padded input's sizes and, per spatial axis, the index of every window entry:
    rows (H', k_h) and columns (W', k_w) into the padded input."""
    (kh, kw), (sh, sw), (ph, pw) = (_pair(layer[k]) for k in ("kernel_size", "stride", "padding"))
    hp, wp = shape[2] + 2 * ph, shape[3] + 2 * pw
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    rows = sh * np.arange(ho)[:, None] + np.arange(kh)[None, :]
    columns = sw * np.arange(wo)[:, None] + np.arange(kw)[None, :]
    # broadcast to (H', W', k_h, k_w)
    return (hp, wp), (ph, pw), (rows[:, None, :, None], columns[None, :, None, :])


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    (hp, wp), (ph, pw), index = _geometry(layer, x.shape)
    widths = ((0, 0), (0, 0), (ph, ph), (pw, pw))
    padded = Tracked(np.pad(x.v, widths), np.pad(x.e, widths))
    windows = padded[(slice(None), slice(None), *index)]  # (N, C, H', W', k_h, k_w)
    n, c, ho, wo, kh, kw = windows.shape
    cols = _moved(windows, (0, 2, 3, 1, 4, 5)).reshape(n * ho * wo, c * kh * kw)
    W = lift(params["W"])
    o = W.shape[0]
    kernel = W.reshape(o, -1).T  # (C k_h k_w, O)
    if layer["bias"]:
        b = lift(params["b"]).reshape(1, o)
        ones = np.ones((len(cols.v), 1))
        z = Tracked(np.hstack([cols.v, ones]), np.hstack([cols.e, 0 * ones])) @ Tracked(
            np.vstack([kernel.v, b.v]), np.vstack([kernel.e, b.e])
        )
    else:
        z = cols @ kernel
    out = _moved(z.reshape(n, ho, wo, o), (0, 3, 1, 2))
    return out, {}, (cols, W, x.shape, index, (hp, wp), (ph, pw))


def backward(layer, dout, cache):
    cols, W, shape, index, (hp, wp), (ph, pw) = cache
    n, o, ho, wo = dout.shape
    g = _moved(dout, (0, 2, 3, 1)).reshape(-1, o)
    grads = {"W": (g.T @ cols).reshape(*W.shape)}
    if layer["bias"]:
        grads["b"] = dout.sum(axis=(0, 2, 3))
    kernel = W.reshape(o, -1)
    # ∂L/∂X = G W₂ term by term: its value, what the inputs' errors carry, the terms' magnitudes
    a = np.abs(g.v)
    parts = (g.v @ kernel.v, a @ kernel.e + g.e @ np.abs(kernel.v), a @ np.abs(kernel.v))
    _, c, kh, kw = W.shape
    scattered = []
    for part in parts:
        windows = part.reshape(n, ho, wo, c, kh, kw).transpose(0, 3, 1, 2, 4, 5)
        into = np.zeros((n, c, hp, wp))
        np.add.at(into, (slice(None), slice(None), *index), windows)
        scattered.append(into[:, :, ph : ph + shape[2], pw : pw + shape[3]])
    value, carried, magnitude = scattered
    return Tracked(value, carried + chain(o * kh * kw) * magnitude), grads
