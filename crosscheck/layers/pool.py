"""MaxPool2d and AvgPool2d over (N, C, H, W), Tracked.

A max rounds nothing: its value picks an entry, so the forward is exact (the error of the
entry it picks). An average sums kh · kw entries (chain(kh kw) of their magnitude) and
scales by 1 / (kh kw). Either backward adds, into each entry of the padded input, what
every window holding it sends there: one routed gradient per window from the max (to the
window's first maximum in row-major order, PyTorch's choice on a tie), ∂out / (kh kw) from
the average; n such terms per entry round as any sum of n terms, chain(n) of their
magnitude, n counted entry by entry (an entry no window reaches stays an exact 0).
"""

import numpy as np

from ..rounding import BLOCK, Tracked, lift

KINDS = ("MaxPool2d", "AvgPool2d")


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _geometry(layer):
    kernel = _pair(layer["kernel_size"])
    stride = kernel if layer["stride"] is None else _pair(layer["stride"])
    return kernel, stride, _pair(layer["padding"])


def _offsets(kernel):
    """The kernel offsets (i, j) in row-major order: top row first, left to right."""
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def _at(i, j, stride, out_hw):
    """The entries of the padded input that offset (i, j) of every window reads."""
    (sh, sw), (ho, wo) = stride, out_hw
    return np.s_[:, :, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    kernel, stride, (ph, pw) = _geometry(layer)
    n, c, h, w = x.shape
    fill = -np.inf if layer["kind"] == "MaxPool2d" else 0.0
    padded = (n, c, h + 2 * ph, w + 2 * pw)
    v = np.full(padded, fill)
    e = np.zeros(padded)
    v[:, :, ph : ph + h, pw : pw + w], e[:, :, ph : ph + h, pw : pw + w] = x.v, x.e
    out_hw = ((padded[2] - kernel[0]) // stride[0] + 1, (padded[3] - kernel[1]) // stride[1] + 1)
    cache = (padded, (ph, pw), kernel, stride, out_hw)
    if layer["kind"] == "AvgPool2d":
        terms = [
            Tracked(v[_at(i, j, stride, out_hw)], e[_at(i, j, stride, out_hw)]) for i, j in _offsets(kernel)
        ]
        total = Tracked(np.sum([t.v for t in terms], axis=0), np.sum([t.e for t in terms], axis=0))
        count = len(terms)
        magnitude = np.sum([np.abs(t.v) for t in terms], axis=0)
        total = Tracked(total.v, total.e + (min(count, BLOCK) + np.log2(count)) * magnitude)
        return total * (1.0 / count), {}, cache
    # the first maximum in row-major order: a later offset takes over only when strictly greater
    best_v, best_e = v[_at(0, 0, stride, out_hw)].copy(), e[_at(0, 0, stride, out_hw)].copy()
    arg = np.zeros(best_v.shape, int)
    for k, (i, j) in enumerate(_offsets(kernel)):
        greater = v[_at(i, j, stride, out_hw)] > best_v
        best_v = np.where(greater, v[_at(i, j, stride, out_hw)], best_v)
        best_e = np.where(greater, e[_at(i, j, stride, out_hw)], best_e)
        arg[greater] = k
    return Tracked(best_v, best_e), {}, (*cache, arg)


def _spread(g, sends, padded, padding, kernel, stride, out_hw):
    """∂L/∂x: Σ, over the windows holding each entry, of what each sends it (``sends(k)``: which
    windows send g to their offset k, bool (N, C, Ho, Wo)); the pads cut off."""
    v, e, magnitude, count = (np.zeros(padded) for _ in range(4))
    for k, (i, j) in enumerate(_offsets(kernel)):
        at, chosen = _at(i, j, stride, out_hw), sends(k)
        v[at] += np.where(chosen, g.v, 0.0)
        e[at] += np.where(chosen, g.e, 0.0)
        magnitude[at] += np.where(chosen, np.abs(g.v), 0.0)
        count[at] += chosen
    e += (np.minimum(count, BLOCK) + np.log2(np.maximum(count, 1))) * magnitude
    (ph, pw), (hp, wp) = padding, padded[2:]
    return Tracked(v, e)[:, :, ph : hp - ph, pw : wp - pw]


def backward(layer, dout, cache):
    padded, padding, kernel, stride, out_hw, *arg = cache
    if layer["kind"] == "AvgPool2d":
        share = dout * (1.0 / (kernel[0] * kernel[1]))
        return _spread(
            share, lambda k: np.ones(dout.shape, bool), padded, padding, kernel, stride, out_hw
        ), {}
    return _spread(dout, lambda k: arg[0] == k, padded, padding, kernel, stride, out_hw), {}
