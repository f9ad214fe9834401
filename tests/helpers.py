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
