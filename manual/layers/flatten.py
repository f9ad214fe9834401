"""Flatten: axes start_dim..end_dim merged into one, a reshape both ways.

forward    (N, d1, ..., dk) → (N, d1 · ... · dk)   (the default start_dim=1, end_dim=-1)
backward   ∂L/∂x = ∂L/∂out reshaped back
"""

import math

from .base import Layer


class Flatten(Layer):
    """``nn.Flatten(start_dim=1, end_dim=-1)`` (axes of the whole input; 0 is the batch)."""

    kind = "Flatten"

    def __init__(self, start_dim=1, end_dim=-1):
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{name}: expected an int, got {v!r}")
        if start_dim == 0:
            raise ValueError("start_dim=0 merges the batch axis into the samples: expected 1 or more")
        self.start_dim, self.end_dim = start_dim, end_dim

    def config(self):
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def _axes(self, ndim):
        start = self.start_dim % ndim
        end = self.end_dim % ndim
        if not 1 <= start <= end < ndim:
            raise ValueError(
                f"start_dim={self.start_dim}, end_dim={self.end_dim}: no such span of axes in an input of "
                f"{ndim} axes (the batch and {ndim - 1} more)"
            )
        return start, end

    def output_shape(self, shape):
        if shape is None or ... in shape:
            return None
        start, end = self._axes(len(shape) + 1)
        merged = shape[start - 1 : end]
        size = None if None in merged else math.prod(merged)
        return (*shape[: start - 1], size, *shape[end:])

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        start, end = self._axes(x.ndim)
        return x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :]), x.shape

    def backward(self, dout, cache):
        return dout.reshape(cache), {}
