"""Each layer kind's textbook equations once more, in the harness, computed with
running error bounds (``crosscheck.rounding``): what a correct implementation of
the kind may differ from the exact values by, entry by entry, for the forward
output, dx, every param's gradient and the updated buffers. One module per kind
(the engine's ``manual.layers`` and the references' ``references.layers`` have
theirs), each with

    forward(layer, params, buffers, x, train, mask) -> (out, new buffers, cache)    Tracked values
    backward(layer, dout, cache) -> (dx, grads)

``layer`` is the kind's plain description (``{"kind": ..., **config}``); params,
buffers and x exact arrays or Tracked; dout Tracked. A Sequential's bound is the
chain of its layers' (``sequential``), so its tolerance comes from the same
equations.
"""

import numpy as np

from .. import rounding
from ..rounding import Tracked, exact, lift
from . import (
    activation,
    attention,
    batchnorm,
    conv,
    dropout,
    embedding,
    flatten,
    groupnorm,
    layernorm,
    linear,
    pool,
    positional,
    recurrent,
    residual,
)

MODULES = {}
for _module in (
    linear,
    activation,
    batchnorm,
    layernorm,
    groupnorm,
    dropout,
    embedding,
    positional,
    flatten,
    pool,
    conv,
    recurrent,
    attention,
    residual,
):
    for _kind in _module.KINDS:
        MODULES[_kind] = _module


def module(layer):
    return MODULES[layer["kind"]]


residual.module_of = module  # the inner layers' modules, without an import cycle


def layer_bounds(layer, params, buffers, x, dout, train=True, mask=None):
    """``(out, dx, grads, buffers)`` of one layer, each Tracked (dx None for indices), from
    exact params, buffers, x and upstream gradient ``dout``."""
    m = module(layer)
    out, new, cache = m.forward(layer, params, buffers, x, train, mask)
    dx, grads = m.backward(layer, exact(dout), cache)
    return out, dx, grads, new


def sequential_bounds(spec, params, buffers, x, y, masks=None, train=True):
    """``(loss, grads, buffers)`` of a Sequential, each Tracked: its layers' bounds chained,
    then its loss head's (``head``)."""
    h = x
    caches, new_buffers = [], []
    masks = list(masks or [])
    for layer, p, b in zip(spec["layers"], params, buffers):
        mask = masks.pop(0) if layer["kind"] == "Dropout" and train else None
        h, nb, cache = module(layer).forward(layer, p, b, h, train, mask)
        caches.append(cache)
        new_buffers.append(nb)
    loss, g = head(spec["loss"], spec["reduction"], lift(h), y)
    grads = [None] * len(caches)
    for i in reversed(range(len(caches))):
        g, grads[i] = module(spec["layers"][i]).backward(spec["layers"][i], g, caches[i])
    return loss, grads, new_buffers


def head(loss, reduction, out, y):
    """``(loss, ∂loss/∂out)`` of a Sequential's loss head, Tracked."""
    y = np.asarray(y)
    if loss == "mse":
        diff = out - y
        total, grad = (diff * diff).sum() * 0.5, diff
        count = out.v.size
    elif loss == "bce":
        z = out
        # max(z, 0) − z y + log(1 + exp(−|z|)); its gradient σ(z) − y
        absz = Tracked(np.abs(z.v), z.e)
        terms = rounding.maximum0(z) - z * y + rounding.log(1 + rounding.exp(-absz))
        total, grad, count = terms.sum(), rounding.sigmoid(z) - y, out.v.size
    else:
        classes = out.v.shape[-1]
        labels = y.dtype.kind in "iu"
        onehot = np.eye(classes)[y] if labels else y.astype(np.float64)
        if loss == "nll":
            total, grad = -(out * onehot).sum(), Tracked(-onehot)
        else:
            shifted = out - out.max(axis=-1)
            e = rounding.exp(shifted)
            s = e.sum(axis=-1, keepdims=True)
            lse = rounding.log(s)
            weight = onehot.sum(axis=-1, keepdims=True)
            total = (lse * weight).sum() - (shifted * onehot).sum()
            grad = (e / s) * weight - onehot
        count = out.v.size // classes
    scale = 1.0 if reduction == "sum" else 1.0 / count
    return total * scale, grad * scale
