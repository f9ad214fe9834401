"""BatchNorm1d over (N, C) or (N, C, L), BatchNorm2d over (N, C, H, W): each channel
normalized over the batch (and its positions), then scaled and shifted.

    train      x̂ = (x − μ_B) / √(σ²_B + ε), μ_B and σ²_B (biased) over every axis but C
               running_mean ← (1 − m) running_mean + m μ_B
               running_var  ← (1 − m) running_var + m σ²_B · n / (n − 1)   (unbiased, n per channel)
    eval       x̂ = (x − running_mean) / √(running_var + ε)
    both       out = γ x̂ + β
    backward   ∂L/∂γ = Σ ∂L/∂out · x̂,  ∂L/∂β = Σ ∂L/∂out  (over every axis but C)
               train: ∂L/∂x through x̂ and the batch statistics (``norm.normalize_backward``)
               eval:  ∂L/∂x = ∂L/∂out · γ / √(running_var + ε)   (the statistics are constants)

As PyTorch: momentum 0.1, eps 1e-5, γ = 1 and β = 0 at the start, running
statistics 0 and 1; a batch of one value per channel in train mode is refused
(its variance is 0 and the unbiased update divides by n − 1 = 0).
"""

import numpy as np

from .base import Layer, check_count, check_number
from .norm import normalize, normalize_backward, sum_of_products


class _BatchNorm(Layer):
    has_modes = True
    rank = ()  # the per-sample ranks accepted: (C,) and (C, L) for 1d; (C, H, W) for 2d

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        self.num_features = check_count("num_features", num_features)
        self.eps = check_number("eps", eps, 0, np.inf, low_open=True)
        self.momentum = check_number("momentum", momentum, 0, 1, high_open=False)
        for name, flag in (("affine", affine), ("track_running_stats", track_running_stats)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name}: expected True or False, got {flag!r}")
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)

    def config(self):
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
        }

    def param_shapes(self):
        return {"gamma": (self.num_features,), "beta": (self.num_features,)} if self.affine else {}

    def init_params(self, rng, dtype):
        if not self.affine:
            return {}
        return {"gamma": np.ones(self.num_features, dtype), "beta": np.zeros(self.num_features, dtype)}

    def init_buffers(self, dtype):
        if not self.track_running_stats:
            return {}
        return {
            "running_mean": np.zeros(self.num_features, dtype),
            "running_var": np.ones(self.num_features, dtype),
        }

    def output_shape(self, shape):
        if shape is not None and ... not in shape:
            ranks = {1: "(N, C)", 2: "(N, C, L)", 3: "(N, C, H, W)"}
            wanted = " or ".join(ranks[r] for r in self.rank)
            if len(shape) not in self.rank:
                raise ValueError(f"expected {wanted}, got per-sample shape {shape}")
            if shape[0] not in (None, self.num_features):
                raise ValueError(
                    f"expected C = {self.num_features} channels on axis 1, got per-sample shape {shape}"
                )
        return shape

    def check_batch(self, batch, shape):
        if shape is not None and batch * int(np.prod(shape[1:])) == 1:
            raise ValueError(
                f"expected more than one value per channel in train mode, got a batch of {batch} of shape "
                f"{shape} (as PyTorch: the batch's variance would be 0 and its unbiased estimate 0/0)"
            )

    def _view(self, v, ndim):
        """A (C,) vector shaped to broadcast against (N, C, ...)."""
        return v.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        axes = (0, *range(2, x.ndim))
        n = x.size // x.shape[1]
        use_batch = train or not self.track_running_stats
        if use_batch:
            if train and n == 1:
                raise ValueError(
                    f"{self!r}: expected more than one value per channel in train mode, got input of shape "
                    f"{x.shape} (as PyTorch: the batch's variance would be 0 and its unbiased estimate 0/0)"
                )
            xhat, r, mean, var = normalize(x, axes, self.eps)
            if train and self.track_running_stats:
                m = self.momentum
                running_mean, running_var = buffers["running_mean"], buffers["running_var"]
                running_mean *= 1 - m
                running_mean += m * mean.reshape(-1)
                running_var *= 1 - m
                running_var += m * var.reshape(-1) * (n / (n - 1))
        else:
            r = 1 / np.sqrt(self._view(buffers["running_var"], x.ndim) + self.eps)
            xhat = (x - self._view(buffers["running_mean"], x.ndim)) * r
        out = xhat
        if self.affine:
            out = xhat * self._view(params["gamma"], x.ndim)
            out += self._view(params["beta"], x.ndim)  # in place: one (N, C, ...) buffer, not two
        gamma = params["gamma"] if self.affine else None
        return out, (xhat, r, gamma, axes, use_batch)

    def backward(self, dout, cache):
        xhat, r, gamma, axes, use_batch = cache
        if gamma is None:
            return (normalize_backward(dout, xhat, r, axes) if use_batch else dout * r), {}
        grads = {"gamma": sum_of_products(dout, xhat, axes).reshape(-1), "beta": dout.sum(axis=axes)}
        scale = self._view(gamma, dout.ndim) * r
        if not use_batch:
            return dout * scale, grads
        # γ is constant over the reduced axes, so with g = γ ∂L/∂out the backward is
        # γr/n (n ∂L/∂out − Σ ∂L/∂out − x̂ Σ ∂L/∂out x̂): g never formed, its sums are ∂L/∂β and ∂L/∂γ
        shape = scale.shape
        sums = grads["beta"].reshape(shape), grads["gamma"].reshape(shape)
        return normalize_backward(dout, xhat, scale, axes, sums), grads


class BatchNorm1d(_BatchNorm):
    """``nn.BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)``
    over (N, C) or (N, C, L): params ``gamma``, ``beta`` (C,); buffers ``running_mean``,
    ``running_var`` (C,)."""

    kind = "BatchNorm1d"
    rank = (1, 2)


class BatchNorm2d(_BatchNorm):
    """``nn.BatchNorm2d(num_features, ...)`` over (N, C, H, W): as BatchNorm1d."""

    kind = "BatchNorm2d"
    rank = (3,)
