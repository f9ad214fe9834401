"""What this machine's memory and NumPy's ufuncs cost, for the ensemble's step.

An ensemble of small nets does almost no arithmetic per byte: its step streams
every buffer through a handful of elementwise calls. Two measurements say
what such a step can cost at best here:

- ``copy_bandwidth(nbytes)``: bytes per second ``np.copyto`` moves between two
  arrays of ``nbytes`` (read + write counted), the machine's streaming speed at
  that size (a copy of 60 MB, for instance, reads 60 MB and writes 60 MB);
- ``ufunc_costs(batch, width, n_nets, dtype, repeats)``: ns per element of each
  NumPy call the step makes, on arrays of its shapes (see ``ensemble_calls``): which calls make a
  float64 step cost more than a float32 one, and whether by more than the 2x
  of its bytes (a call without a SIMD loop for a dtype on this CPU would).

Each time is the minimum over ``repeats`` calls after one untimed call (page
faults, a cold cache), as pytest-benchmark's ``min`` is.
"""

import time

import numpy as np


def _best(fn, repeats):
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def copy_bandwidth(nbytes, repeats=10):
    """Bytes per second ``np.copyto`` moves between two arrays of ``nbytes`` each: 2 nbytes
    (read + write) over the fastest copy's time."""
    n = max(1, nbytes // 8)
    src = np.ones(n)
    dst = np.empty_like(src)
    seconds = _best(lambda: np.copyto(dst, src), repeats)
    return 2 * src.nbytes / seconds


def ensemble_calls(batch, width, n_nets, n_out=1, rng=None, dtype=np.float64):
    """``{name: (call, elements)}``: each NumPy call an ensemble step makes, on operands of
    its shapes, with the element count its cost is divided by.

    Elementwise calls run on a hidden layer's ``(batch, width, N)`` (z, a, work);
    for ``np.einsum`` an element is one multiply-add term (b i j N of them). The
    einsum subscripts and shapes are ``manual/ensemble.py``'s for a net
    ``n_in = width -> width -> n_out`` on shared data x ``(batch, width)``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    shape = (batch, width, n_nets)
    z = rng.standard_normal(shape).astype(dtype)
    a = rng.uniform(0.1, 0.9, shape).astype(dtype)  # a sigmoid's outputs: a divisor away from 0
    out = np.empty(shape, dtype)
    b = rng.standard_normal((width, n_nets)).astype(dtype)
    x = rng.standard_normal((batch, width)).astype(dtype)
    W1 = rng.standard_normal((width, width, n_nets)).astype(dtype)
    W2 = rng.standard_normal((width, n_out, n_nets)).astype(dtype)
    d2 = rng.standard_normal((batch, n_out, n_nets)).astype(dtype)
    z2 = np.empty_like(d2)
    y = rng.standard_normal((batch, n_out)).astype(dtype)
    dW1, dW2 = np.empty_like(W1), np.empty_like(W2)
    col = np.empty((width, n_nets), dtype)
    lr = np.full(n_nets, 0.5, dtype)
    elements = z.size
    return {
        "exp": (lambda: np.exp(z, out=out), elements),
        "tanh": (lambda: np.tanh(z, out=out), elements),
        "multiply": (lambda: np.multiply(z, a, out=out), elements),
        "add": (lambda: np.add(z, a, out=out), elements),
        "subtract": (lambda: np.subtract(z, a, out=out), elements),
        "divide": (lambda: np.divide(z, a, out=out), elements),
        "negative": (lambda: np.negative(z, out=out), elements),
        "abs": (lambda: np.abs(z, out=out), elements),
        "minimum (z, 0)": (lambda: np.minimum(z, 0, out=out), elements),
        "add bias (b, N)": (lambda: np.add(z, b, out=out), elements),
        "add.reduce over batch": (lambda: np.add.reduce(z, axis=0, out=col), elements),
        "multiply lr (N,)": (lambda: np.multiply(z, lr, out=out), elements),
        "einsum bi,ijn->bjn": (
            lambda: np.einsum("bi,ijn->bjn", x, W1, out=out),
            batch * width * width * n_nets,
        ),
        "einsum bin,ijn->bjn": (
            lambda: np.einsum("bin,ijn->bjn", a, W2, out=z2),
            batch * width * n_out * n_nets,
        ),
        "einsum bin,bjn->ijn": (
            lambda: np.einsum("bin,bjn->ijn", a, d2, out=dW2),
            batch * width * n_out * n_nets,
        ),
        "einsum bi,bjn->ijn": (
            lambda: np.einsum("bi,bjn->ijn", x, z, out=dW1),
            batch * width * width * n_nets,
        ),
        "einsum bjn,ijn->bin": (
            lambda: np.einsum("bjn,ijn->bin", d2, W2, out=out),
            batch * width * n_out * n_nets,
        ),
        "einsum bkn,bk->n": (lambda: np.einsum("bkn,bk->n", d2, y), batch * n_out * n_nets),
    }


def ufunc_costs(batch, width, n_nets, dtype, repeats=10):
    """``{name: ns per element}`` of every call in ``ensemble_calls``, at that size and dtype."""
    calls = ensemble_calls(batch, width, n_nets, dtype=np.dtype(dtype))
    return {name: 1e9 * _best(call, repeats) / elements for name, (call, elements) in calls.items()}
