"""Test data for a net."""

import numpy as np


def make_data(net, batch, seed=0, scale=1.0):
    """x ``(batch, n_in)`` ~ N(0, scale**2) and targets the net's loss accepts."""
    rng = np.random.default_rng(seed)
    n_in, n_out = net.sizes[0], net.sizes[-1]
    x = (scale * rng.standard_normal((batch, n_in))).astype(net.dtype)
    if net.loss_name == "cross_entropy":
        y = np.eye(n_out)[rng.integers(0, n_out, batch)]
    elif net.loss_name == "bce":
        y = rng.integers(0, 2, (batch, n_out)).astype(float)
    else:
        y = rng.random((batch, n_out))
    return x, y.astype(net.dtype)


def sigmoid_mse_by_hand(params, x, y):
    """``(loss, grads)`` of a sigmoid net with mse summed over the batch, written
    out with NumPy from the textbook equations (no code of the engine's):
    a^l = 1 / (1 + exp(-(a^(l-1) W^l + b^l))), L = 1/2 sum (a^L - y)^2,
    delta^L = (a^L - y) a^L (1 - a^L), delta^l = delta^(l+1) W^(l+1)T a^l (1 - a^l)."""
    acts = [np.asarray(x, np.float64)]
    for layer in params:
        acts.append(1 / (1 + np.exp(-(acts[-1] @ layer["W"] + layer.get("b", 0.0)))))
    loss = 0.5 * float(((acts[-1] - y) ** 2).sum())
    delta = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        grads[l] = {"W": acts[l].T @ delta}
        if "b" in params[l]:
            grads[l]["b"] = delta.sum(axis=0)
        delta = (delta @ params[l]["W"].T) * acts[l] * (1 - acts[l])
    return loss, grads
