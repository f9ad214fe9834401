"""(x − μ) / √(σ² + ε) along axes, and its backward (r / n)(n g − Σ g − x̂ Σ g x̂)."""

import numpy as np

from .. import rounding


def normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    r = 1 / rounding.sqrt(var + eps)
    return centered * r, r, mean, var


def normalize_backward(g, xhat, r, axes):
    n = int(np.prod([xhat.shape[a] for a in axes]))
    sum_g = g.sum(axis=axes, keepdims=True)
    sum_gx = (g * xhat).sum(axis=axes, keepdims=True)
    return (r * (1.0 / n)) * (g * float(n) - sum_g - xhat * sum_gx)
