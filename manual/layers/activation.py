"""Activations as layers: Sigmoid, Tanh, ReLU, LeakyReLU, Identity, Softmax,
LogSoftmax, GELU (exact and tanh) and SiLU, over inputs of any shape.

Each is one of ``manual.activations``' functions, where f, its derivative and
the backward are written once (the MLP's fast path uses the same ones):

    forward    a = f(z)                              z (N, ...) → a, the same shape
    backward   ∂L/∂z = ∂L/∂a ⊙ f′(z)                 elementwise ones, f′ from a or from z
               ∂L/∂z = s ⊙ (g − Σ g s)               softmax along dim, s = a, g = ∂L/∂a
               ∂L/∂z = g − exp(a) Σ g                log-softmax along dim

The cache holds what the derivative is written in terms of: a for σ, tanh,
ReLU, leaky ReLU, softmax and log-softmax, z for GELU and SiLU.
"""

import numpy as np

from .. import activations as act
from .base import Layer, check_number


class ActivationLayer(Layer):
    """``_act``: the ``manual.activations`` function the layer is (per class, or per instance
    for the ones with arguments)."""

    has_params = False
    _act = None

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        a = self._act.apply(x, out=np.empty_like(x), work=np.empty_like(x))
        return a, (a if self._act.saves == "a" else x)

    def backward(self, dout, cache):
        work = np.empty_like(dout)  # every backward may write its result over its scratch: one buffer
        return self._act.backward(dout, cache, out=work, work=work), {}


class Sigmoid(ActivationLayer):
    kind = "Sigmoid"
    _act = act.SIGMOID


class Tanh(ActivationLayer):
    kind = "Tanh"
    _act = act.TANH


class ReLU(ActivationLayer):
    kind = "ReLU"
    _act = act.RELU


class Identity(ActivationLayer):
    kind = "Identity"
    _act = act.IDENTITY


class LeakyReLU(ActivationLayer):
    """``nn.LeakyReLU(negative_slope=0.01)``: z above 0, negative_slope · z below."""

    kind = "LeakyReLU"

    def __init__(self, negative_slope=0.01):
        self.negative_slope = check_number("negative_slope", negative_slope, 0, 1)
        self._act = act.LeakyReLU(self.negative_slope)

    def config(self):
        return {"negative_slope": self.negative_slope}


class SiLU(ActivationLayer):
    kind = "SiLU"
    _act = act.SiLU()


class GELU(ActivationLayer):
    """``nn.GELU(approximate="none")``: z Φ(z); ``approximate="tanh"``: its tanh form."""

    kind = "GELU"
    _FORMS = {"none": act.GELU(), "tanh": act.GELUTanh()}

    def __init__(self, approximate="none"):
        if approximate not in self._FORMS:
            raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate
        self._act = self._FORMS[approximate]

    def config(self):
        return {"approximate": self.approximate}


class Softmax(ActivationLayer):
    """``nn.Softmax(dim=-1)``: along axis ``dim`` of the whole input (the batch axis is 0)."""

    kind = "Softmax"
    _form = act.Softmax

    def __init__(self, dim=-1):
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"dim: expected an int, got {dim!r}")
        if dim == 0:
            raise ValueError(
                "dim=0 is the batch axis: a softmax across samples mixes them; expected 1 or more, or -1"
            )
        self.dim = int(dim)
        self._act = self._form(axis=self.dim)

    def config(self):
        return {"dim": self.dim}

    def output_shape(self, shape):
        if shape is None or ... in shape:
            return shape
        if not -(len(shape) + 1) <= self.dim <= len(shape):
            raise ValueError(
                f"dim={self.dim}: the input has {len(shape) + 1} axes (the batch and {len(shape)} more)"
            )
        if self.dim == -(len(shape) + 1):  # dim=0 is refused when the layer is made
            raise ValueError(f"dim={self.dim} is the batch axis: a softmax across samples mixes them")
        return shape


class LogSoftmax(Softmax):
    """``nn.LogSoftmax(dim=-1)``: log softmax along axis ``dim``."""

    kind = "LogSoftmax"
    _form = act.LogSoftmax
