"""Dropout with its mask: x ⊙ keep / (1 − p) in train mode, the identity in eval mode."""

import numpy as np

from ..rounding import lift

KINDS = ("Dropout",)


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    if not train:
        return x, {}, None
    keep = np.asarray(mask, np.float64)
    return x * (keep / (1 - layer["p"])), {}, keep


def backward(layer, dout, cache):
    if cache is None:
        return dout, {}
    return dout * (cache / (1 - layer["p"])), {}
