"""The forward and backward passes: the seeds' equations, vectorized over the batch.

Rows are samples. One index convention (scikit-learn's): ``a[0]`` is the
input x, and layer ``l`` (0-based) takes ``a[l]`` to ``a[l + 1]`` with
``W[l]``, ``b[l]``; its pre-activation is ``z[l]`` and its delta
``δ[l] = ∂L/∂z[l]``. The seeds' 1-based W1, z1, a1 are W[0], z[0], a[1].

    forward    z[l] = a[l] @ W[l] + b[l];  a[l + 1] = f_l(z[l])
    output     δ[L-1] = ∂L/∂a[L] ⊙ f′(z[L-1])           (losses.py, with its table)
    backward   δ[l-1] = (δ[l] @ W[l]ᵀ) ⊙ f′(z[l-1])
               ∂L/∂W[l] = a[l]ᵀ @ δ[l];  ∂L/∂b[l] = Σ over the batch of δ[l]

The products are ``layers.linear``'s and each f′ is ``activations``', the same
code a ``Sequential``'s Linear and activation layers run: this module only
gives them the workspace.

Both passes write into a ``Workspace`` of preallocated buffers, so a training
step allocates nothing the size of the batch or of the params.
"""

import numpy as np

from .layers.linear import affine, affine_backward


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
        affine(ws.a[l], layer["W"], layer.get("b"), out=ws.z[l])  # z[l] = a[l] @ W[l] + b[l]
        f.apply(ws.z[l], out=ws.a[l + 1], work=ws.work[l])  # a[l+1] = f(z[l])
    return ws.a[-1]


def backward(params, activations, ws, grads):
    """Fill ``grads`` (shaped like ``params``) from the output delta ``ws.delta[-1]``
    (``losses.loss_and_output_delta``) down to the first layer: each layer's Linear
    backward, then the previous activation's (``layers.linear``, ``activations``)."""
    for l in reversed(range(len(params))):
        # ∂L/∂W[l] = a[l]ᵀ δ[l], ∂L/∂b[l] = Σ δ[l], and ∂L/∂a[l] = δ[l] W[l]ᵀ into δ[l-1]
        below = ws.delta[l - 1] if l > 0 else None
        affine_backward(
            ws.delta[l], ws.a[l], params[l]["W"], grads[l]["W"], grads[l].get("b"), below, ws.work[l]
        )
        if l > 0:
            # δ[l-1] = ∂L/∂a[l] ⊙ f′(z[l-1]), f′ read off a[l] = f(z[l-1]) (or z[l-1])
            f_prev = activations[l - 1]
            saved = ws.a[l] if f_prev.saves == "a" else ws.z[l - 1]
            f_prev.backward(below, saved, out=below, work=ws.work[l - 1])
    return grads
