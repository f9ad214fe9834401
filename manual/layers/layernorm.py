"""LayerNorm over the last k axes of each sample, with an elementwise affine.

    forward    x̂ = (x − μ) / √(σ² + ε), μ and σ² (biased) over the last k axes of each sample
               out = γ x̂ + β,  γ and β of ``normalized_shape``
    backward   ∂L/∂γ = Σ ∂L/∂out · x̂,  ∂L/∂β = Σ ∂L/∂out  (over the batch and every other leading axis)
               ∂L/∂x through x̂ and the statistics (``norm.normalize_backward``, g = ∂L/∂out · γ)

No running statistics and no modes: train and eval are the same computation.
"""

import numpy as np

from .base import Layer, check_count, check_number
from .norm import normalize, normalize_backward, sum_of_products


class LayerNorm(Layer):
    """``nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True)``: params ``gamma``
    (ones) and ``beta`` (zeros) of ``normalized_shape`` (an int, or a tuple of the last axes)."""

    kind = "LayerNorm"

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) == 0:
            raise ValueError(
                f"normalized_shape: expected an int or a tuple of ints, got {normalized_shape!r}"
            )
        self.normalized_shape = tuple(check_count("normalized_shape", s) for s in shape)
        self.eps = check_number("eps", eps, 0, np.inf, low_open=True)
        if not isinstance(elementwise_affine, (bool, np.bool_)):
            raise TypeError(f"elementwise_affine: expected True or False, got {elementwise_affine!r}")
        self.elementwise_affine = bool(elementwise_affine)

    def config(self):
        return {
            "normalized_shape": list(self.normalized_shape),
            "eps": self.eps,
            "elementwise_affine": self.elementwise_affine,
        }

    def param_shapes(self):
        if not self.elementwise_affine:
            return {}
        return {"gamma": self.normalized_shape, "beta": self.normalized_shape}

    def init_params(self, rng, dtype):
        if not self.elementwise_affine:
            return {}
        return {
            "gamma": np.ones(self.normalized_shape, dtype),
            "beta": np.zeros(self.normalized_shape, dtype),
        }

    def output_shape(self, shape):
        k = len(self.normalized_shape)
        known = shape is not None and ... not in shape[-k:] and None not in shape[-k:]
        if known and (len(shape) < k or tuple(shape[-k:]) != self.normalized_shape):
            raise ValueError(
                f"expected inputs ending in {self.normalized_shape} (normalized_shape), "
                f"got per-sample shape {shape}"
            )
        return shape

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        axes = tuple(range(x.ndim - len(self.normalized_shape), x.ndim))
        xhat, r, _, _ = normalize(x, axes, self.eps)
        if not self.elementwise_affine:
            return xhat, (xhat, r, None, axes)
        out = xhat * params["gamma"]
        out += params["beta"]  # in place: one (N, D) buffer, not two
        return out, (xhat, r, params["gamma"], axes)

    def backward(self, dout, cache):
        xhat, r, gamma, axes = cache
        if gamma is None:
            return normalize_backward(dout, xhat, r, axes), {}
        leading = tuple(range(dout.ndim - len(axes)))
        grads = {
            "gamma": sum_of_products(dout, xhat, leading).reshape(gamma.shape),
            "beta": dout.sum(axis=leading),
        }
        return normalize_backward(dout * gamma, xhat, r, axes), grads
