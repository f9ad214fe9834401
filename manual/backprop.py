"""The forward and backward pass: the seeds' equations, vectorized over the batch.

Rows are samples. For layer l (0-based here, 1-based in the seeds' text):

    forward    z[l] = a[l-1] @ W[l] + b[l]          a[-1] is the input x
               a[l] = f_l(z[l])

    backward   delta[L-1] = dL/dz[L-1]              from the loss (losses.py)
               delta[l]   = (delta[l+1] @ W[l+1].T) * f_l'(z[l])
               dW[l]      = a[l-1].T @ delta[l]
               db[l]      = delta[l] summed over the batch

Both passes write into a ``Workspace`` of preallocated buffers, so a training
step allocates nothing proportional to the batch or the parameters.
"""

import numpy as np


class Workspace:
    """Buffers for one batch size: per layer ``z``, ``a``, ``delta`` and a
    scratch array ``work``, each ``(batch, n_out)`` of the net's dtype."""

    def __init__(self, sizes, batch, dtype):
        self.batch = batch
        shapes = [(batch, n) for n in sizes[1:]]
        self.z = [np.empty(s, dtype) for s in shapes]
        self.a = [np.empty(s, dtype) for s in shapes]
        self.delta = [np.empty(s, dtype) for s in shapes]
        self.work = [np.empty(s, dtype) for s in shapes]

    def nbytes(self):
        return sum(b.nbytes for bufs in (self.z, self.a, self.delta, self.work) for b in bufs)


def empty_grads(params):
    """Gradient buffers shaped exactly like ``params``."""
    return [{k: np.empty_like(v) for k, v in layer.items()} for layer in params]


def forward(params, activations, x, ws):
    """Fill ``ws.z`` and ``ws.a``; return the output ``a[L-1]``, ``(batch, n_out)``.

    x: ``(batch, n_in)``.
    """
    a_prev = x
    for layer, f, z, a, work in zip(params, activations, ws.z, ws.a, ws.work):
        np.matmul(a_prev, layer["W"], out=z)
        if "b" in layer:
            z += layer["b"]
        f.apply(z, out=a, work=work)
        a_prev = a
    return a_prev


def loss_value(loss, ws, y, scale):
    """The reduced loss of the last ``forward``; uses ``ws.delta[-1]`` as scratch."""
    return scale * loss.value(ws.z[-1], ws.a[-1], y, out=ws.delta[-1], work=ws.work[-1])


def backward(params, activations, loss, x, y, ws, grads, scale):
    """Fill ``grads`` (shaped like ``params``) with dL/dparams after ``forward``.

    x: ``(batch, n_in)``, y: ``(batch, n_out)``; ``scale`` is the reduction's
    factor (1 for sum, 1/count for mean).
    """
    last = len(params) - 1
    loss.output_delta(
        ws.z[last], ws.a[last], y, activations[last], scale, out=ws.delta[last], work=ws.work[last]
    )
    for l in range(last, -1, -1):
        a_prev = x if l == 0 else ws.a[l - 1]
        np.matmul(a_prev.T, ws.delta[l], out=grads[l]["W"])
        if "b" in grads[l]:
            np.sum(ws.delta[l], axis=0, out=grads[l]["b"])
        if l > 0:
            # delta = (delta_next @ W_next.T) * sigma'(z), with sigma'(z) read off a = sigma(z)
            delta, delta_next, W_next = ws.delta[l - 1], ws.delta[l], params[l]["W"]
            np.matmul(delta_next, W_next.T, out=delta)
            delta *= activations[l - 1].derivative(ws.a[l - 1], out=ws.work[l - 1])
    return grads
