"""The forward and backward passes: the seeds' equations, vectorized over the batch.

Rows are samples. One index convention (scikit-learn's): ``a[0]`` is the
input x, and layer ``l`` (0-based) takes ``a[l]`` to ``a[l + 1]`` with
``W[l]``, ``b[l]``; its pre-activation is ``z[l]`` and its delta
``δ[l] = ∂L/∂z[l]``. The seeds' 1-based W1, z1, a1 are W[0], z[0], a[1].

    forward    z[l] = a[l] @ W[l] + b[l];  a[l + 1] = f_l(z[l])
    output     δ[L-1] = ∂L/∂a[L] ⊙ f′(z[L-1])           (losses.py, with its table)
    backward   δ[l-1] = (δ[l] @ W[l]ᵀ) ⊙ f′(z[l-1])
               ∂L/∂W[l] = a[l]ᵀ @ δ[l];  ∂L/∂b[l] = Σ over the batch of δ[l]

Both passes write into a ``Workspace`` of preallocated buffers, so a training
step allocates nothing the size of the batch or of the params.
"""

import numpy as np

# a column sum adds at most this many rows one after another (see column_sum)
SUM_CHAIN = 128


class Workspace:
    """Per layer ``l``: ``z[l]``, ``delta[l]`` and ``work[l]`` (scratch: f′ goes
    there), each ``(batch, sizes[l + 1])``; ``a`` has one more entry, ``a[0]``,
    which ``forward`` points at the input."""

    def __init__(self, sizes, batch, dtype):
        self.batch = batch
        shapes = [(batch, n) for n in sizes[1:]]
        self.z = [np.empty(s, dtype) for s in shapes]
        self.a = [None] + [np.empty(s, dtype) for s in shapes]
        self.delta = [np.empty(s, dtype) for s in shapes]
        self.work = [np.empty(s, dtype) for s in shapes]

    def rows(self, batch):
        """A workspace for a smaller batch whose buffers are the first ``batch``
        rows of these (a short last mini-batch needs no buffers of its own)."""
        view = Workspace.__new__(Workspace)
        view.z, view.delta, view.work = (
            [b[:batch] for b in bufs] for bufs in (self.z, self.delta, self.work)
        )
        view.a = [None] + [b[:batch] for b in self.a[1:]]
        return view


def forward(params, activations, x, ws):
    """Fill ``ws.z`` and ``ws.a``; return the output ``a[L]``, ``(batch, n_out)``.

    x: ``(batch, n_in)``.
    """
    ws.a[0] = x
    for l, (layer, f) in enumerate(zip(params, activations)):
        # np.dot rather than @: half the per-call overhead on small arrays (docs/performance.md)
        np.dot(ws.a[l], layer["W"], out=ws.z[l])  # z[l] = a[l] @ W[l] + b[l]
        if "b" in layer:
            ws.z[l] += layer["b"]
        f.apply(ws.z[l], out=ws.a[l + 1], work=ws.work[l])  # a[l+1] = f(z[l])
    return ws.a[-1]


def backward(params, activations, ws, grads):
    """Fill ``grads`` (shaped like ``params``) from the output delta ``ws.delta[-1]``
    (``losses.loss_and_output_delta``) down to the first layer."""
    for l in reversed(range(len(params))):
        delta = ws.delta[l]
        np.dot(ws.a[l].T, delta, out=grads[l]["W"])  # ∂L/∂W[l] = a[l]ᵀ @ δ[l]
        if "b" in grads[l]:
            column_sum(delta, out=grads[l]["b"], work=ws.work[l])  # ∂L/∂b[l] = Σ over the batch of δ[l]
        if l > 0:
            f_prev = activations[l - 1]
            # δ[l-1] = (δ[l] W[l]ᵀ) ⊙ f′(z[l-1]), f′ read off a[l] = f(z[l-1])
            np.dot(delta, params[l]["W"].T, out=ws.delta[l - 1])
            ws.delta[l - 1] *= f_prev.derivative(ws.a[l], out=ws.work[l - 1])
    return grads


def column_sum(rows, out, work):
    """Σ over the rows of ``rows`` ``(batch, n)`` into ``out`` ``(n,)``; ``work``
    (like ``rows``) is scratch.

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
