"""Running error bounds: how far any correct floating-point implementation of a
computation may be from its exact value, computed beside the value itself
(first-order running error analysis, as in Wilkinson's and Higham's books).

A ``Tracked`` holds ``v``, the value computed in float64 from exact inputs, and
``e``, a bound on |computed − exact| in units of u, the unit roundoff of the
dtype the implementations run in (u = 2⁻⁵³ in float64, 2⁻²⁴ in float32). Each
operation adds one rounding of its result, plus what its inputs' errors do:

    a ± b          e = eₐ + e_b + |a ± b|
    a · b          e = |a| e_b + |b| eₐ + |a b|        (a constant c: |c| eₐ + 2 |c a|, its own rounding too)
    a / b          e = (eₐ + |a / b| e_b) / |b| + |a / b|
    √a             e = eₐ / (2 √a) + |√a|
    f(a)           e = |f′(a)| eₐ + ULPS |f(a)|        exp, log, tanh, erf: a library's own error, 4 ulps
    Σ of n terms   e = Σ eᵢ + chain(n) Σ |tᵢ|          chain(n) = min(n, 128) + log₂ n
    A @ B          e = |A| e_B + e_A |B| + chain(k) |A| |B|

chain(n): every implementation here sums in blocks or pairwise (BLAS, NumPy's
pairwise add along a row, torch, XLA), so no chain of dependent roundings is
much longer than a block, ~128, however many terms; a sum that runs one term
after another over n > 128 terms (NumPy along a non-contiguous axis) stays
below this bound as long as its error grows as a random walk, √n u, up to
n = 16,384. Two implementations may then differ by ``layer_parity``'s 4 u e
(``crosscheck.tolerances``, which says why 4).
"""

import math

import numpy as np
from scipy import special

from .tolerances import tolerance

ULPS = 4.0
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
BLOCK = 128


def chain(n):
    """The longest chain of dependent roundings in a sum of n terms."""
    return min(n, BLOCK) + np.log2(max(n, 1))


class Tracked:
    __array_priority__ = 1000  # an ndarray on the left defers to these operators

    def __init__(self, v, e=None):
        self.v = np.asarray(v, dtype=np.float64)
        self.e = (
            np.zeros_like(self.v) if e is None else np.broadcast_to(np.asarray(e, np.float64), self.v.shape)
        )

    @property
    def shape(self):
        return self.v.shape

    @property
    def ndim(self):
        return self.v.ndim

    def __repr__(self):
        return f"Tracked(shape={self.v.shape}, max e={float(np.max(self.e, initial=0)):.3g})"

    # ------------------------------------------------------------ arithmetic

    def __add__(self, other):
        o = lift(other)
        v = self.v + o.v
        return Tracked(v, self.e + o.e + np.abs(v))

    __radd__ = __add__

    def __neg__(self):
        return Tracked(-self.v, self.e)

    def __sub__(self, other):
        return self + (-lift(other))

    def __rsub__(self, other):
        return lift(other) + (-self)

    def __mul__(self, other):
        if not isinstance(other, Tracked):
            c = np.asarray(other, np.float64)
            v = self.v * c
            return Tracked(v, np.abs(c) * self.e + 2 * np.abs(v))
        v = self.v * other.v
        return Tracked(v, np.abs(self.v) * other.e + np.abs(other.v) * self.e + np.abs(v))

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = lift(other)
        v = self.v / o.v
        return Tracked(v, (self.e + np.abs(v) * o.e) / np.abs(o.v) + np.abs(v))

    def __rtruediv__(self, other):
        return lift(other) / self

    def __matmul__(self, other):
        o = lift(other)
        k = self.v.shape[-1]
        v = self.v @ o.v
        a, b = np.abs(self.v), np.abs(o.v)
        return Tracked(v, a @ o.e + self.e @ b + chain(k) * (a @ b))

    def __rmatmul__(self, other):
        return lift(other) @ self

    def __getitem__(self, index):
        return Tracked(self.v[index], self.e[index])

    # ------------------------------------------------------------ shapes (no rounding)

    def reshape(self, *shape):
        return Tracked(self.v.reshape(*shape), self.e.reshape(*shape))

    @property
    def T(self):
        return Tracked(self.v.T, self.e.T)

    def swapaxes(self, a, b):
        return Tracked(np.swapaxes(self.v, a, b), np.swapaxes(self.e, a, b))

    def sum(self, axis=None, keepdims=False):
        n = self.v.size if axis is None else int(np.prod([self.v.shape[a] for a in np.atleast_1d(axis)]))
        v = self.v.sum(axis=axis, keepdims=keepdims)
        e = self.e.sum(axis=axis, keepdims=keepdims) + chain(n) * np.abs(self.v).sum(
            axis=axis, keepdims=keepdims
        )
        return Tracked(v, e)

    def mean(self, axis=None, keepdims=False):
        n = self.v.size if axis is None else int(np.prod([self.v.shape[a] for a in np.atleast_1d(axis)]))
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / n)

    def max(self, axis=None, keepdims=True):
        """The max, with the largest error along the axis (no rounding of its own)."""
        return Tracked(self.v.max(axis=axis, keepdims=keepdims), self.e.max(axis=axis, keepdims=keepdims))


def lift(x):
    """A Tracked from a Tracked, or an exact array or number."""
    return x if isinstance(x, Tracked) else Tracked(x)


def exact(x):
    """Inputs given exactly in the dtype: no error."""
    return Tracked(np.asarray(x, np.float64))


def _unary(a, value, slope):
    a = lift(a)
    return Tracked(value, np.abs(slope) * a.e + ULPS * np.abs(value))


def sqrt(a):
    a = lift(a)
    v = np.sqrt(a.v)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(v > 0, a.e / (2 * v), 0.0)
    return Tracked(v, first + np.abs(v))


def exp(a):
    v = np.exp(lift(a).v)
    return _unary(a, v, v)


def log(a):
    a = lift(a)
    return _unary(a, np.log(a.v), 1 / a.v)


def tanh(a):
    v = np.tanh(lift(a).v)
    return _unary(a, v, 1 - v * v)


def sigmoid(a):
    """σ, whose implementations (1 / (1 + exp(−z)), 1 − σ(−z), ½(1 + tanh(z/2))) are accurate
    to a few ulps of 1, not of σ: its own error is ULPS in absolute terms."""
    a = lift(a)
    v = 1 / (1 + np.exp(-a.v))
    return Tracked(v, v * (1 - v) * a.e + ULPS)


def where(condition, a, b):
    a, b = lift(a), lift(b)
    return Tracked(np.where(condition, a.v, b.v), np.where(condition, a.e, b.e))


def stack(ts, axis=0):
    """Tracked values stacked along a new axis (no rounding)."""
    ts = [lift(t) for t in ts]
    return Tracked(np.stack([t.v for t in ts], axis), np.stack([t.e for t in ts], axis))


def concatenate(ts, axis=-1):
    """Tracked values side by side along an axis (no rounding)."""
    ts = [lift(t) for t in ts]
    return Tracked(np.concatenate([t.v for t in ts], axis), np.concatenate([t.e for t in ts], axis))


def maximum0(a):
    """max(a, 0): no rounding; an entry near 0 takes either side's error."""
    a = lift(a)
    return Tracked(np.maximum(a.v, 0), a.e)


def erf(a):
    a = lift(a)
    return _unary(a, special.erf(a.v), TWO_OVER_SQRT_PI * np.exp(-a.v * a.v))


def allowed(t, dtype):
    """The largest difference two correct implementations in ``dtype`` may show, per entry:
    ``layer_parity``'s rtol (4 u) times the bound e, and 1,024 smallest normals, for XLA's
    flushing of subnormals (``crosscheck.compare``)."""
    return tolerance("layer_parity", dtype).rtol * t.e + 1024 * float(np.finfo(dtype).tiny)
