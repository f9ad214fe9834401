"""Activation functions and their derivatives.

Each activation is a small object with two methods, both writing into a
caller-owned buffer so the training loop allocates nothing per step:

- ``apply(z, out, work)``: ``out = f(z)``; never modifies ``z``; may use
  ``work`` (same shape) as scratch.
- ``derivative(a, out)``: ``out = f'(z)``, computed from the *output*
  ``a = f(z)`` (as scikit-learn does): ``sigmoid'(z) = a (1 - a)`` and
  ``tanh'(z) = 1 - a**2`` reuse the forward pass instead of recomputing it.

Calling an activation, ``SIGMOID(z)``, allocates and returns ``f(z)``.

``softmax`` couples the units of a row, so it has no elementwise derivative:
it is allowed on the output layer only, where ``losses`` handles it.
"""

import numpy as np

LEAKY_SLOPE = 0.01


class Activation:
    name = "?"
    elementwise = True

    def __call__(self, z):
        z = np.asarray(z)
        return self.apply(z, np.empty_like(z), np.empty_like(z))

    def apply(self, z, out, work):
        raise NotImplementedError

    def derivative(self, a, out):
        raise NotImplementedError

    def __repr__(self):
        return self.name


class Sigmoid(Activation):
    """sigma(z) = 1 / (1 + exp(-z)), stable for any finite z.

    Written as exp(min(z, 0)) / (1 + exp(-|z|)): both exponents are <= 0, so
    nothing overflows (1 / (1 + exp(-z)) overflows exp for z < -709), each
    side is accurate to rounding relative to its value (sigma(-40) = 4.2e-18,
    not 0), and values too small for the dtype underflow quietly to exactly 0.
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
        # sigma'(z) = a (1 - a)
        np.subtract(1, a, out=out)
        return np.multiply(out, a, out=out)


class Tanh(Activation):
    name = "tanh"

    def apply(self, z, out, work=None):
        return np.tanh(z, out=out)

    def derivative(self, a, out):
        # tanh'(z) = 1 - a**2
        np.multiply(a, a, out=out)
        return np.subtract(1, out, out=out)


class ReLU(Activation):
    """max(z, 0); the derivative at z = 0 is 0, as in PyTorch and JAX."""

    name = "relu"

    def apply(self, z, out, work=None):
        return np.maximum(z, 0, out=out)

    def derivative(self, a, out):
        # out may be a boolean mask: a is positive exactly where z is
        return np.greater(a, 0, out=out)


class LeakyReLU(Activation):
    """z for z > 0, 0.01 z otherwise; the derivative at z = 0 is 0.01, as in PyTorch."""

    name = "leaky_relu"

    def apply(self, z, out, work=None):
        # max(z, 0.01 z) is z for z > 0 and 0.01 z for z < 0
        np.multiply(z, LEAKY_SLOPE, out=out)
        return np.maximum(z, out, out=out)

    def derivative(self, a, out):
        # the output keeps the sign of z, so a > 0 exactly where z > 0
        np.greater(a, 0, out=out)
        out *= 1 - LEAKY_SLOPE
        out += LEAKY_SLOPE
        return out


class Identity(Activation):
    name = "identity"

    def apply(self, z, out, work=None):
        np.copyto(out, z)
        return out

    def derivative(self, a, out):
        out.fill(1)
        return out


class Softmax(Activation):
    """Row-wise softmax, shifted by the row max so exp never overflows."""

    name = "softmax"
    elementwise = False

    def apply(self, z, out, work=None):
        np.subtract(z, z.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def derivative(self, a, out):
        raise TypeError(
            "softmax has no elementwise derivative; it is only allowed on the output layer"
        )


SIGMOID = Sigmoid()
TANH = Tanh()
RELU = ReLU()
LEAKY_RELU = LeakyReLU()
IDENTITY = Identity()
SOFTMAX = Softmax()

ACTIVATIONS = {
    act.name: act for act in (SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX)
}
