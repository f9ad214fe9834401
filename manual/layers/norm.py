"""Normalization along axes, shared by BatchNorm and LayerNorm: x̂ = (x − μ) / √(σ² + ε).

    forward    μ = mean(x), σ² = mean((x − μ)²)  (biased: over the n entries of each group)
               x̂ = (x − μ) · r,  r = 1 / √(σ² + ε)
    backward   ∂L/∂x = (r / n) (n g − Σ g − x̂ Σ (g x̂)),  g = ∂L/∂x̂

The backward is what the forward's three paths give together: through x − μ
directly, through the mean, and through the variance (whose path through the
mean is Σ (x − μ) = 0 times a number, exactly nothing).
"""

import math

import numpy as np


def normalize(x, axes, eps):
    """``(x̂, r, μ, σ²)`` over ``axes`` (kept as axes of size 1 in r, μ and σ²)."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)
    r = 1 / np.sqrt(var + eps)
    return centered * r, r, mean, var


def normalize_backward(g, xhat, r, axes):
    """∂L/∂x from g = ∂L/∂x̂ (the group's entries along ``axes``)."""
    n = math.prod(xhat.shape[a] for a in axes)  # a Python int: a NumPy int64 would promote float32
    sum_g = g.sum(axis=axes, keepdims=True)
    sum_gx = np.sum(g * xhat, axis=axes, keepdims=True)
    return (r / n) * (n * g - sum_g - xhat * sum_gx)
