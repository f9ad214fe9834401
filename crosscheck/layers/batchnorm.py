"""BatchNorm: train mode normalizes with the batch's statistics (and updates the running
ones), eval mode with the running ones; out = γ x̂ + β."""

from .. import rounding
from ..rounding import lift
from .norm import normalize, normalize_backward

KINDS = ("BatchNorm1d", "BatchNorm2d")


def _view(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    axes = (0, *range(2, x.ndim))
    use_batch = train or not layer["track_running_stats"]
    new = {k: lift(v) for k, v in buffers.items()}
    if use_batch:
        xhat, r, mean, var = normalize(x, axes, layer["eps"])
        if train and layer["track_running_stats"]:
            n = x.v.size // x.shape[1]
            m = layer["momentum"]
            new = {
                "running_mean": lift(buffers["running_mean"]) * (1 - m) + mean.reshape(-1) * m,
                "running_var": lift(buffers["running_var"]) * (1 - m) + var.reshape(-1) * (m * n / (n - 1)),
            }
    else:
        r = 1 / rounding.sqrt(_view(lift(buffers["running_var"]), x.ndim) + layer["eps"])
        xhat = (x - _view(lift(buffers["running_mean"]), x.ndim)) * r
    out = xhat
    gamma = None
    if layer["affine"]:
        gamma = _view(lift(params["gamma"]), x.ndim)
        out = xhat * gamma + _view(lift(params["beta"]), x.ndim)
    return out, new, (xhat, r, gamma, axes, use_batch)


def backward(layer, dout, cache):
    xhat, r, gamma, axes, use_batch = cache
    grads = {}
    g = dout
    if gamma is not None:
        grads = {"gamma": (dout * xhat).sum(axis=axes), "beta": dout.sum(axis=axes)}
        g = dout * gamma
    return (normalize_backward(g, xhat, r, axes) if use_batch else g * r), grads
