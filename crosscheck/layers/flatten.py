"""Flatten: a reshape both ways, no rounding."""

from ..rounding import lift

KINDS = ("Flatten",)


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    start, end = layer["start_dim"] % x.ndim, layer["end_dim"] % x.ndim
    return x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :]), {}, x.shape


def backward(layer, dout, cache):
    return dout.reshape(*cache), {}
