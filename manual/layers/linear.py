"""Linear: z = x W + b, the seeds' and CS231n's orientation (W is (in, out)).

    forward    z = x W + b                         x (..., in) → z (..., out); W (in, out), b (out,)
    backward   ∂L/∂x = ∂L/∂z Wᵀ
               ∂L/∂W = xᵀ ∂L/∂z,  ∂L/∂b = Σ ∂L/∂z   (summed over every leading axis: the batch, time)

``affine`` and ``affine_backward`` write into given buffers: the MLP's fast path
(``manual.backprop``) calls them with its workspace, ``Linear`` with fresh arrays.
"""

import numpy as np

from .base import Layer, check_count, fan_in_uniform

# a column sum adds at most this many rows one after another (see column_sum)
SUM_CHAIN = 128


def affine(x, W, b, out):
    """``out = x W + b`` for x ``(n, in)``; b may be None."""
    # np.dot rather than @: half the per-call overhead on small arrays (docs/performance.md)
    np.dot(x, W, out=out)
    if b is not None:
        out += b
    return out


def affine_backward(dz, x, W, dW, db=None, dx=None, work=None):
    """From ``dz = ∂L/∂z`` ``(n, out)``: ``dW = xᵀ dz``, ``db = Σ dz`` over the rows (``work``:
    scratch like dz), and, unless ``dx`` is None, ``dx = dz Wᵀ``, each into its buffer."""
    np.dot(x.T, dz, out=dW)
    if db is not None:
        column_sum(dz, out=db, work=work)
    if dx is not None:
        np.dot(dz, W.T, out=dx)


def column_sum(rows, out, work):
    """Σ over the rows of ``rows`` ``(batch, n)`` into ``out`` ``(n,)``; ``work`` (like ``rows``)
    is scratch.

    np.add.reduce(rows, axis=0) adds the rows one after another: its rounding
    error grows with the batch (at 100,000 float32 rows of 0.1, by 5e-4). Above
    ``SUM_CHAIN`` rows the halves are added pairwise first, so no chain of
    roundings is longer than SUM_CHAIN + log2(batch), whatever the batch.
    """
    n = len(rows)
    while n > SUM_CHAIN:
        half = n // 2
        np.add(rows[:half], rows[half : 2 * half], out=work[:half])
        if n % 2:
            work[0] += rows[n - 1]
        rows, n = work, half
    return np.add.reduce(rows[:n], axis=0, out=out)


class Linear(Layer):
    """``torch.nn.Linear(in_features, out_features, bias=True)``, with W stored (in, out):
    params ``W`` (in_features, out_features) and ``b`` (out_features,), both drawn from
    U(−1/√in, 1/√in) as PyTorch draws them (W first). Loading ``nn.Linear``'s ``weight``
    takes a transpose: W = weight.T."""

    kind = "Linear"

    def __init__(self, in_features, out_features, bias=True):
        self.in_features = check_count("in_features", in_features)
        self.out_features = check_count("out_features", out_features)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias: expected True or False, got {bias!r}")
        self.bias = bool(bias)

    def config(self):
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.bias}

    def param_shapes(self):
        shapes = {"W": (self.in_features, self.out_features)}
        if self.bias:
            shapes["b"] = (self.out_features,)
        return shapes

    def init_params(self, rng, dtype):
        return {k: fan_in_uniform(rng, s, self.in_features, dtype) for k, s in self.param_shapes().items()}

    def output_shape(self, shape):
        if shape is None:
            return (..., self.out_features)  # unknown leading axes, the features known
        if len(shape) == 0 or shape[-1] not in (None, ..., self.in_features):
            raise ValueError(
                f"expected inputs of shape (..., {self.in_features}), got per-sample shape {_shown(shape)}"
            )
        return (*shape[:-1], self.out_features)

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        rows = x.reshape(-1, self.in_features)
        W = params["W"]
        z = affine(rows, W, params.get("b"), np.empty((len(rows), self.out_features), x.dtype))
        return z.reshape(*x.shape[:-1], self.out_features), (rows, x.shape, W)

    def backward(self, dout, cache):
        rows, shape, W = cache
        dz = dout.reshape(-1, self.out_features)
        grads = {"W": np.empty_like(W)}
        if self.bias:
            grads["b"] = np.empty(self.out_features, dz.dtype)
        dx = np.empty_like(rows)
        work = np.empty_like(dz) if self.bias and len(dz) > SUM_CHAIN else None  # column_sum's halves
        affine_backward(dz, rows, W, grads["W"], grads.get("b"), dx, work)
        return dx.reshape(shape), grads


def _shown(shape):
    return "(..., " + ", ".join(map(str, shape[1:])) + ")" if shape and shape[0] is ... else str(shape)
