"""GroupNorm over (N, C, ...): each sample's groups of C/G channels normalized over their
channels and positions (x viewed as (N, G, C/G, ...)); out = γ x̂ + β per channel."""

from ..rounding import lift
from .norm import normalize, normalize_backward

KINDS = ("GroupNorm",)


def _groups(layer, t):
    return t.reshape(t.shape[0], layer["num_groups"], -1, *t.shape[2:])


def _view(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    grouped = _groups(layer, x)
    axes = tuple(range(2, grouped.ndim))
    xhat, r, _, _ = normalize(grouped, axes, layer["eps"])
    xhat = xhat.reshape(*x.shape)
    if not layer["affine"]:
        return xhat, {}, (xhat, r, None, axes)
    gamma = _view(lift(params["gamma"]), x.ndim)
    return xhat * gamma + _view(lift(params["beta"]), x.ndim), {}, (xhat, r, gamma, axes)


def backward(layer, dout, cache):
    xhat, r, gamma, axes = cache
    g = dout if gamma is None else dout * gamma
    dx = normalize_backward(_groups(layer, g), _groups(layer, xhat), r, axes).reshape(*dout.shape)
    if gamma is None:
        return dx, {}
    others = (0, *range(2, dout.ndim))
    return dx, {"gamma": (dout * xhat).sum(axis=others), "beta": dout.sum(axis=others)}
