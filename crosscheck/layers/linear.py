"""Linear: z = x W + b; ∂L/∂x = ∂L/∂z Wᵀ, ∂L/∂W = xᵀ ∂L/∂z, ∂L/∂b = Σ ∂L/∂z."""

from ..rounding import lift

KINDS = ("Linear",)


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    rows = x.reshape(-1, layer["in_features"])
    W = lift(params["W"])
    z = rows @ W
    if layer["bias"]:
        z = z + lift(params["b"])
    return z.reshape(*x.shape[:-1], layer["out_features"]), {}, (rows, W, x.shape)


def backward(layer, dout, cache):
    rows, W, shape = cache
    dz = dout.reshape(-1, layer["out_features"])
    grads = {"W": rows.T @ dz}
    if layer["bias"]:
        grads["b"] = dz.sum(axis=0)
    return (dz @ W.T).reshape(*shape), grads
