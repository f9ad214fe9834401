"""Activations: f(z) and ∂L/∂z = ∂L/∂a ⊙ f′(z), or the Jacobian product of (log-)softmax."""

import math

import numpy as np

from .. import rounding
from ..rounding import Tracked, lift

KINDS = ("Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Identity", "Softmax", "LogSoftmax", "GELU", "SiLU")
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
C, A = math.sqrt(2 / math.pi), 0.044715


def forward(layer, params, buffers, x, train, mask):
    z = lift(x)
    kind = layer["kind"]
    if kind == "Sigmoid":
        a = rounding.sigmoid(z)
    elif kind == "Tanh":
        a = rounding.tanh(z)
    elif kind == "ReLU":
        a = rounding.maximum0(z)
    elif kind == "LeakyReLU":
        a = rounding.where(z.v > 0, z, z * layer["negative_slope"])
    elif kind == "Identity":
        a = z
    elif kind in ("Softmax", "LogSoftmax"):
        axis = layer["dim"]
        shifted = z - z.max(axis=axis)
        e = rounding.exp(shifted)
        s = e.sum(axis=axis, keepdims=True)
        a = e / s if kind == "Softmax" else shifted - rounding.log(s)
    elif kind == "SiLU":
        a = z * rounding.sigmoid(z)
    elif layer["approximate"] == "tanh":
        t = rounding.tanh((z + z * z * z * A) * C)
        a = z * (t + 1) * 0.5
    else:
        a = z * (rounding.erf(z * (1 / math.sqrt(2))) + 1) * 0.5
    return a, {}, (z, a)


def backward(layer, dout, cache):
    z, a = cache
    g = dout
    kind = layer["kind"]
    if kind == "Sigmoid":
        dz = g * (a * (1 - a))
    elif kind == "Tanh":
        dz = g * (1 - a * a)
    elif kind == "ReLU":
        dz = rounding.where(z.v > 0, g, Tracked(np.zeros_like(g.v)))
    elif kind == "LeakyReLU":
        dz = rounding.where(z.v > 0, g, g * layer["negative_slope"])
    elif kind == "Identity":
        dz = g
    elif kind == "Softmax":
        dz = a * (g - (g * a).sum(axis=layer["dim"], keepdims=True))
    elif kind == "LogSoftmax":
        dz = g - rounding.exp(a) * g.sum(axis=layer["dim"], keepdims=True)
    elif kind == "SiLU":
        s = rounding.sigmoid(z)
        dz = g * (s * (z * (1 - s) + 1))
    elif layer["approximate"] == "tanh":
        t = rounding.tanh((z + z * z * z * A) * C)
        dz = g * ((t + 1) * 0.5 + z * (1 - t * t) * ((z * z * (3 * A) + 1) * (0.5 * C)))
    else:
        phi = rounding.exp(z * z * -0.5) * INV_SQRT_2PI
        cdf = (rounding.erf(z * (1 / math.sqrt(2))) + 1) * 0.5
        dz = g * (cdf + z * phi)
    return dz, {}
