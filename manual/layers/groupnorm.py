"""GroupNorm over (N, C, ...): each sample's channels split into G groups of C/G, each group
normalized over its channels and positions, then a per-channel affine.

    forward    x̂ = (x − μ) / √(σ² + ε), μ and σ² (biased) over the C/G channels of a group and
               every position, per sample and group (x viewed as (N, G, C/G, ...))
               out = γ x̂ + β,  γ and β (C,)
    backward   ∂L/∂γ = Σ ∂L/∂out · x̂,  ∂L/∂β = Σ ∂L/∂out  (over every axis but C)
               ∂L/∂x through x̂ and the group's statistics (``norm.normalize_backward``, g = γ ∂L/∂out)

G = 1 is a LayerNorm over (C, ...) with a per-channel affine; G = C an InstanceNorm. No
running statistics and no modes: train and eval are the same computation (as PyTorch).
"""

import numpy as np

from .base import Layer, check_count, check_number
from .norm import normalize, normalize_backward, sum_of_products


class GroupNorm(Layer):
    """``nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True)`` over (N, C, ...):
    params ``gamma`` (ones) and ``beta`` (zeros) of shape (C,)."""

    kind = "GroupNorm"

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True):
        self.num_groups = check_count("num_groups", num_groups)
        self.num_channels = check_count("num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"num_channels: expected a multiple of num_groups = {self.num_groups}, "
                f"got {self.num_channels}"
            )
        self.eps = check_number("eps", eps, 0, np.inf, low_open=True)
        if not isinstance(affine, (bool, np.bool_)):
            raise TypeError(f"affine: expected True or False, got {affine!r}")
        self.affine = bool(affine)

    def config(self):
        return {
            "num_groups": self.num_groups,
            "num_channels": self.num_channels,
            "eps": self.eps,
            "affine": self.affine,
        }

    def param_shapes(self):
        return {"gamma": (self.num_channels,), "beta": (self.num_channels,)} if self.affine else {}

    def init_params(self, rng, dtype):
        if not self.affine:
            return {}
        return {"gamma": np.ones(self.num_channels, dtype), "beta": np.zeros(self.num_channels, dtype)}

    def output_shape(self, shape):
        if shape is not None and ... not in shape:
            if len(shape) < 1 or shape[0] not in (None, self.num_channels):
                raise ValueError(
                    f"expected (N, C, ...) with C = {self.num_channels} channels on axis 1, got per-sample "
                    f"shape {shape}"
                )
        return shape

    def _groups(self, a):
        """(N, C, ...) viewed as (N, G, C/G, ...)."""
        return a.reshape(a.shape[0], self.num_groups, -1, *a.shape[2:])

    def _view(self, v, ndim):
        return v.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"x: expected (N, {self.num_channels}, ...), got shape {x.shape}")
        grouped = self._groups(x)
        axes = tuple(range(2, grouped.ndim))
        xhat, r, _, _ = normalize(grouped, axes, self.eps)
        xhat = xhat.reshape(x.shape)
        if not self.affine:
            return xhat, (xhat, r, None, axes)
        out = xhat * self._view(params["gamma"], x.ndim)
        out += self._view(params["beta"], x.ndim)  # in place: one (N, C, ...) buffer, not two
        return out, (xhat, r, params["gamma"], axes)

    def backward(self, dout, cache):
        xhat, r, gamma, axes = cache
        g = dout if gamma is None else dout * self._view(gamma, dout.ndim)
        dx = normalize_backward(self._groups(g), self._groups(xhat), r, axes).reshape(dout.shape)
        if gamma is None:
            return dx, {}
        others = (0, *range(2, dout.ndim))
        grads = {"gamma": sum_of_products(dout, xhat, others).reshape(-1), "beta": dout.sum(axis=others)}
        return dx, grads
