"""Activation functions and their derivatives.

Each activation is a small object with two methods, both writing into a
caller-owned buffer so the training loop allocates nothing per step:

- ``apply(z, out)``: ``out = f(z)``; never modifies ``z``.
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
        return self.apply(z, np.empty_like(z))

    def apply(self, z, out):
        raise NotImplementedError

    def derivative(self, a, out):
        raise NotImplementedError

    def __repr__(self):
        return self.name


class Sigmoid(Activation):
    """sigma(z) = 1 / (1 + exp(-z)), stable for any finite z.

    ``exp(-z)`` overflows for z below -log(max float) (-709 in float64, -88 in
    float32). Clipping z there first keeps every step finite and silent; the
    result for those z is the smallest value the formula reaches
    (~1e-308 / ~6e-39) instead of the true, even smaller, one: an absolute
    error below the dtype's smallest normal number. Everywhere else the
    formula is accurate to rounding (no cancellation on either side).
    """

    name = "sigmoid"

    def apply(self, z, out):
        limit = _exp_limit(z.dtype)
        np.maximum(z, -limit, out=out)
        np.negative(out, out=out)
        np.exp(out, out=out)
        out += 1
        return np.reciprocal(out, out=out)

    def derivative(self, a, out):
        # sigma'(z) = a (1 - a)
        np.subtract(1, a, out=out)
        return np.multiply(out, a, out=out)


class Tanh(Activation):
    name = "tanh"

    def apply(self, z, out):
        return np.tanh(z, out=out)

    def derivative(self, a, out):
        # tanh'(z) = 1 - a**2
        np.multiply(a, a, out=out)
        return np.subtract(1, out, out=out)


class ReLU(Activation):
    """max(z, 0); the derivative at z = 0 is 0, as in PyTorch and JAX."""

    name = "relu"

    def apply(self, z, out):
        return np.maximum(z, 0, out=out)

    def derivative(self, a, out):
        return np.greater(a, 0, out=out)


class LeakyReLU(Activation):
    """z for z > 0, 0.01 z otherwise; the derivative at z = 0 is 0.01, as in PyTorch."""

    name = "leaky_relu"

    def apply(self, z, out):
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

    def apply(self, z, out):
        np.copyto(out, z)
        return out

    def derivative(self, a, out):
        out.fill(1)
        return out


class Softmax(Activation):
    """Row-wise softmax, shifted by the row max so exp never overflows."""

    name = "softmax"
    elementwise = False

    def apply(self, z, out):
        np.subtract(z, z.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def derivative(self, a, out):
        raise TypeError(
            "softmax has no elementwise derivative; it is only allowed on the output layer"
        )


def _exp_limit(dtype):
    # the largest x with exp(x) finite, rounded down to stay clear of the edge
    return _EXP_LIMITS[np.dtype(dtype)]


_EXP_LIMITS = {
    np.dtype(np.float32): np.float32(88.0),
    np.dtype(np.float64): np.float64(709.0),
}

SIGMOID = Sigmoid()
TANH = Tanh()
RELU = ReLU()
LEAKY_RELU = LeakyReLU()
IDENTITY = Identity()
SOFTMAX = Softmax()

ACTIVATIONS = {
    act.name: act for act in (SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX)
}
