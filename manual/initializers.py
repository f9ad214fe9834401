"""Initial weights, drawn from ``np.random.default_rng(seed)``.

Draws are always made in float64 and then cast, so a float32 net and a
float64 net built from the same seed start from the same numbers (up to
float32 rounding). Layers are drawn in order, W before b, as seed 000 does;
b is drawn even for a net without bias, so bias on and off share the same W.
"""

import numpy as np


def uniform(rng, n_in, n_out):
    """U[0, 1) for W and b alike: seed 000's ``np.random.rand``."""
    return rng.random((n_in, n_out)), rng.random(n_out)


def xavier(rng, n_in, n_out):
    """Glorot uniform, U(-r, r) with r = sqrt(6 / (n_in + n_out)); zero bias (torch's xavier_uniform_)."""
    r = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, size=(n_in, n_out)), np.zeros(n_out)


def he(rng, n_in, n_out):
    """He normal, N(0, 2 / n_in); zero bias (torch's kaiming_normal_ with fan_in)."""
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)), np.zeros(n_out)


INITS = {"uniform": uniform, "xavier": xavier, "he": he}


def initial_params(sizes, init, seed, bias, dtype):
    """One {"W": (n_in, n_out), "b": (n_out,)} dict per layer ("b" only with bias)."""
    rng = np.random.default_rng(seed)
    draw = INITS[init]
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W, b = draw(rng, n_in, n_out)
        layer = {"W": W.astype(dtype)}
        if bias:
            layer["b"] = b.astype(dtype)
        params.append(layer)
    return params
