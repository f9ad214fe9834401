"""LayerNorm over the last axes of each sample; out = γ x̂ + β."""

from ..rounding import lift
from .norm import normalize, normalize_backward

KINDS = ("LayerNorm",)


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    axes = tuple(range(x.ndim - len(layer["normalized_shape"]), x.ndim))
    xhat, r, _, _ = normalize(x, axes, layer["eps"])
    if not layer["elementwise_affine"]:
        return xhat, {}, (xhat, r, None, axes)
    gamma = lift(params["gamma"])
    return xhat * gamma + lift(params["beta"]), {}, (xhat, r, gamma, axes)


def backward(layer, dout, cache):
    xhat, r, gamma, axes = cache
    if gamma is None:
        return normalize_backward(dout, xhat, r, axes), {}
    leading = tuple(range(dout.ndim - len(axes)))
    grads = {"gamma": (dout * xhat).sum(axis=leading), "beta": dout.sum(axis=leading)}
    return normalize_backward(dout * gamma, xhat, r, axes), grads
