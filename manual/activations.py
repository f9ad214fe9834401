"""Activation functions f and their derivatives f′, the only place either is written.

Each activation has two methods, both writing into a caller-owned buffer so
a training step allocates nothing:

- ``apply(z, out, work)``: ``out = f(z)``; ``work`` (same shape) is scratch.
- ``derivative(a, out)``: ``out = f′(z)``, read off the *output* ``a = f(z)``
  (as scikit-learn does): σ′(z) = a(1 − a) and tanh′(z) = 1 − a² reuse the
  forward pass instead of recomputing f.

Calling an activation, ``SIGMOID(z)``, allocates and returns f(z);
``SIGMOID.prime(a)`` allocates and returns f′(z).

softmax couples the units of a row, so it has no elementwise derivative: it
is allowed on the output layer only, where ``losses.output_delta`` takes its
Jacobian.
"""

import numpy as np

LEAKY_SLOPE = 0.01


class Activation:
    name = "?"
    elementwise = True

    def __call__(self, z):
        z = np.asarray(z)
        return self.apply(z, np.empty_like(z), np.empty_like(z))

    def prime(self, a):
        """f′(z) for ``a = f(z)``, in a new array."""
        a = np.asarray(a)
        return self.derivative(a, np.empty_like(a))

    def __repr__(self):
        return self.name


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + exp(−z)), computed as exp(min(z, 0)) / (1 + exp(−|z|)).

    Both exponents are ≤ 0, so nothing overflows (1 / (1 + exp(−z))
    overflows exp for z < −709), each side is accurate to rounding relative
    to its value (σ(−40) = 4.2e-18, not 0), and values below the dtype's
    range underflow quietly to exactly 0.
    """

    name = "sigmoid"

    def apply(self, z, out, work):
        np.minimum(z, 0, out=out)
        np.exp(out, out=out)
        np.abs(z, out=work)
        np.negative(work, out=work)
        np.exp(work, out=work)
        work += 1
        return np.divide(out, work, out=out)

    def derivative(self, a, out):
        np.subtract(1, a, out=out)
        return np.multiply(a, out, out=out)  # σ′(z) = a (1 − a)


class Tanh(Activation):
    name = "tanh"

    def apply(self, z, out, work):
        return np.tanh(z, out=out)

    def derivative(self, a, out):
        np.multiply(a, a, out=out)
        return np.subtract(1, out, out=out)  # tanh′(z) = 1 − a²


class ReLU(Activation):
    """max(z, 0); f′(0) = 0, as in PyTorch and JAX."""

    name = "relu"

    def apply(self, z, out, work):
        return np.maximum(z, 0, out=out)

    def derivative(self, a, out):
        return np.greater(a, 0, out=out)  # 1 where z > 0, which is where a > 0


class LeakyReLU(Activation):
    """z for z > 0, 0.01 z otherwise; f′(0) = 0.01, as in PyTorch."""

    name = "leaky_relu"

    def apply(self, z, out, work):
        np.multiply(z, LEAKY_SLOPE, out=out)
        return np.maximum(z, out, out=out)  # max(z, 0.01 z): z above 0, 0.01 z below

    def derivative(self, a, out):
        # a keeps the sign of z: f′ = 1 where a > 0, else the slope
        np.greater(a, 0, out=out)
        out *= 1 - LEAKY_SLOPE
        out += LEAKY_SLOPE
        return out


class Identity(Activation):
    name = "identity"

    def apply(self, z, out, work):
        np.copyto(out, z)
        return out

    def derivative(self, a, out):
        out.fill(1)
        return out


class Softmax(Activation):
    """Row-wise exp(z) / Σ exp(z), shifted by the row max so exp never overflows.

    ``apply`` leaves the shifted logits z − max(z) in ``work``: the cross-entropy's
    value reads them there (``losses.CrossEntropy.value``) rather than computing
    them again (3.5 µs of a 64-64-10 step)."""

    name = "softmax"
    elementwise = False

    def apply(self, z, out, work):
        np.subtract(z, z.max(axis=1, keepdims=True), out=work)
        np.exp(work, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def derivative(self, a, out):
        raise TypeError("softmax has no elementwise derivative; it is only allowed on the output layer")


SIGMOID = Sigmoid()
TANH = Tanh()
RELU = ReLU()
LEAKY_RELU = LeakyReLU()
IDENTITY = Identity()
SOFTMAX = Softmax()

ACTIVATIONS = {act.name: act for act in (SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX)}
