"""Activation functions f and their derivatives, the only place either is written.

Each activation has, writing into caller-owned buffers so a training step
allocates nothing:

- ``apply(z, out, work)``: ``out = f(z)``; ``work`` (same shape) is scratch.
- ``backward(g, saved, out, work)``: ``out = ∂L/∂z`` from ``g = ∂L/∂f(z)``, where
  ``saved`` is what the derivative is written in terms of: the output a = f(z)
  where it is cheapest so (σ′ = a(1 − a), tanh′ = 1 − a², as scikit-learn does),
  z itself where f is not monotonic and a does not tell z (GELU, SiLU).
  ``saves`` says which: "a" or "z".
- ``derivative(a, out)``: f′(z) read off a = f(z), for the elementwise
  activations whose ``saves`` is "a" (the MLP's and the Ensemble's fast paths).

Calling an activation, ``SIGMOID(z)``, allocates and returns f(z);
``SIGMOID.prime(a)`` allocates and returns f′(z).

Softmax and log-softmax couple the units along an axis (``axis``; the MLP's is
1, its rows' units), so they have no elementwise derivative: their backward
is the Jacobian's product, written below.
"""

import math

import numpy as np

from .special import INV_SQRT_2PI, normal_cdf

LEAKY_SLOPE = 0.01
GELU_TANH_C = math.sqrt(2 / math.pi)  # the tanh approximation's √(2/π) and 0.044715
GELU_TANH_A = 0.044715
PHI_ZERO = 40.0  # exp(−40²/2) = exp(−800) is 0 in float64 (and float32)
TANH_SATURATED = 100.0  # tanh(√(2/π)(100 + 0.044715 · 100³)) is 1 exactly, in both dtypes


class Activation:
    name = "?"
    elementwise = True
    saves = "a"

    def __call__(self, z):
        z = np.asarray(z)
        return self.apply(z, np.empty_like(z), np.empty_like(z))

    def prime(self, a):
        """f′(z) for ``a = f(z)``, in a new array."""
        a = np.asarray(a)
        return self.derivative(a, np.empty_like(a))

    def backward(self, g, saved, out, work):
        """``out = g ⊙ f′(z)`` (``out`` may be ``g``), f′ from ``saved`` (a or z)."""
        self.derivative(saved, out=work)
        return np.multiply(g, work, out=out)

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
    """z for z > 0, slope · z otherwise (slope 0.01); f′(0) = slope, as in PyTorch."""

    name = "leaky_relu"

    def __init__(self, slope=LEAKY_SLOPE):
        self.slope = slope

    def apply(self, z, out, work):
        np.multiply(z, self.slope, out=out)
        return np.maximum(z, out, out=out)  # max(z, slope z): z above 0, slope z below (0 <= slope < 1)

    def derivative(self, a, out):
        # a keeps the sign of z: f′ = 1 where a > 0, else the slope
        np.greater(a, 0, out=out)
        out *= 1 - self.slope
        out += self.slope
        return out


class Identity(Activation):
    name = "identity"

    def apply(self, z, out, work):
        np.copyto(out, z)
        return out

    def derivative(self, a, out):
        out.fill(1)
        return out

    def backward(self, g, saved, out, work):
        if out is not g:
            np.copyto(out, g)
        return out


class Softmax(Activation):
    """exp(z) / Σ exp(z) along ``axis``, shifted by the max so exp never overflows.

    ``apply`` leaves the shifted logits z − max(z) in ``work``: the MLP's
    cross-entropy reads them there (``losses.CrossEntropy.value``) rather than
    computing them again (3.5 µs of a 64-64-10 step).

    backward: with s = softmax(z), J = diag(s) − s sᵀ, so ∂L/∂z = Jᵀ g = s ⊙ (g − Σ g s).
    """

    name = "softmax"
    elementwise = False

    def __init__(self, axis=1):
        self.axis = axis

    def apply(self, z, out, work):
        np.subtract(z, z.max(axis=self.axis, keepdims=True), out=work)
        np.exp(work, out=out)
        out /= out.sum(axis=self.axis, keepdims=True)
        return out

    def derivative(self, a, out):
        raise TypeError("softmax has no elementwise derivative: its backward is the Jacobian's product")

    def backward(self, g, saved, out, work):
        np.multiply(g, saved, out=work)
        total = work.sum(axis=self.axis, keepdims=True)
        np.subtract(g, total, out=out)
        return np.multiply(out, saved, out=out)


class LogSoftmax(Softmax):
    """log softmax(z) = z − m − log Σ exp(z − m) along ``axis``, m the max.

    backward: ∂L/∂z = g − softmax(z) Σ g = g − exp(a) Σ g, from the output a itself.
    """

    name = "log_softmax"

    def apply(self, z, out, work):
        np.subtract(z, z.max(axis=self.axis, keepdims=True), out=out)
        np.exp(out, out=work)
        out -= np.log(work.sum(axis=self.axis, keepdims=True))
        return out

    def backward(self, g, saved, out, work):
        total = g.sum(axis=self.axis, keepdims=True)
        np.exp(saved, out=work)
        work *= total
        return np.subtract(g, work, out=out)


class GELU(Activation):
    """z Φ(z), Φ the standard normal's distribution function (``special.normal_cdf``).

    f′(z) = Φ(z) + z φ(z), φ(z) = exp(−z²/2) / √(2π): written in terms of z, since
    f is not monotonic (f(−0.75) = f(−0.24)) and a does not tell z.
    """

    name = "gelu"
    saves = "z"

    def apply(self, z, out, work):
        np.copyto(work, normal_cdf(z))
        return np.multiply(z, work, out=out)

    def derivative(self, z, out):
        # beyond |z| = 40, z φ(z) is below the smallest subnormal: clipped, z² cannot overflow
        zc = np.clip(z, -PHI_ZERO, PHI_ZERO)
        np.multiply(zc, zc, out=out)
        out *= -0.5
        np.exp(out, out=out)
        out *= INV_SQRT_2PI
        out *= zc
        out += normal_cdf(z)  # f′ = Φ(z) + z φ(z)
        return out


class GELUTanh(Activation):
    """GELU's tanh approximation: ½ z (1 + tanh(u)), u = √(2/π) (z + 0.044715 z³).

    f′(z) = ½ (1 + t) + ½ z (1 − t²) √(2/π) (1 + 3 · 0.044715 z²), t = tanh(u); in terms of z.
    """

    name = "gelu_tanh"
    saves = "z"

    def _t(self, z, out):
        np.multiply(z, z, out=out)
        out *= GELU_TANH_A
        out += 1
        out *= z
        out *= GELU_TANH_C
        return np.tanh(out, out=out)

    def apply(self, z, out, work):
        t = self._t(np.clip(z, -TANH_SATURATED, TANH_SATURATED), work)
        t += 1
        t *= 0.5  # ½ (1 + t) first: in [0, 1], so z times it cannot overflow
        return np.multiply(z, t, out=out)

    def derivative(self, z, out):
        # beyond |z| = 100, t = ±1 exactly and 1 − t² = 0: clipped, z³ cannot overflow (z³ · 0 = NaN)
        zc = np.clip(z, -TANH_SATURATED, TANH_SATURATED)
        t = self._t(zc, np.empty_like(z))
        np.multiply(zc, zc, out=out)
        out *= 3 * GELU_TANH_A
        out += 1
        out *= GELU_TANH_C
        out *= zc
        out *= 1 - t * t
        out += 1 + t
        out *= 0.5
        return out


class SiLU(Activation):
    """z σ(z) (swish); f′(z) = σ(z) (1 + z (1 − σ(z))), in terms of z (f is not monotonic)."""

    name = "silu"
    saves = "z"

    def apply(self, z, out, work):
        SIGMOID.apply(z, out=work, work=out)
        return np.multiply(z, work, out=out)

    def derivative(self, z, out):
        s = SIGMOID(z)
        np.subtract(1, s, out=out)
        out *= z
        out += 1
        out *= s
        return out


SIGMOID = Sigmoid()
TANH = Tanh()
RELU = ReLU()
LEAKY_RELU = LeakyReLU()
IDENTITY = Identity()
SOFTMAX = Softmax(axis=1)

# the MLP's and the Ensemble's activations, by the name their specs use
ACTIVATIONS = {act.name: act for act in (SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX)}
