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

from .activations import IDENTITY, RELU


class Workspace:
    """Buffers for one batch size: per layer ``z``, ``a``, ``delta``, a scratch
    array ``work`` and ``slope``, where f'(z) goes, each ``(batch, n_out)``.

    An identity layer's ``a`` is its ``z``: the same array, never copied. A
    relu layer's ``slope`` is boolean (f' is 0 or 1, and multiplying by a
    mask is twice as fast as by floats); any other's is ``work``.
    """

    def __init__(self, sizes, activations, batch, dtype):
        self.batch = batch
        shapes = [(batch, n) for n in sizes[1:]]
        self.z = [np.empty(s, dtype) for s in shapes]
        self.a = [z if f is IDENTITY else np.empty_like(z) for z, f in zip(self.z, activations)]
        self.delta = [np.empty(s, dtype) for s in shapes]
        self.work = [np.empty(s, dtype) for s in shapes]
        self.slope = [np.empty(s, bool) if f is RELU else w for s, f, w in zip(shapes, activations, self.work)]


def forward(params, activations, x, ws):
    """Fill ``ws.z`` and ``ws.a``; return the output ``a[L-1]``, ``(batch, n_out)``.

    x: ``(batch, n_in)``.
    """
    a_prev = x
    for layer, f, z, a, work in zip(params, activations, ws.z, ws.a, ws.work):
        np.dot(a_prev, layer["W"], out=z)
        if "b" in layer:
            z += layer["b"]
        if a is not z:
            f.apply(z, out=a, work=work)
        a_prev = a
    return a_prev


def loss_value(loss, ws, y, scale):
    """The reduced loss of the last ``forward``; uses ``ws.delta[-1]`` as scratch."""
    return scale * loss.value(ws.z[-1], ws.a[-1], y, out=ws.delta[-1], work=ws.work[-1])


def loss_and_output_delta(loss, activation, ws, y, scale, delta_scale):
    """The reduced loss of the last ``forward`` (times ``scale``), and
    ``ws.delta[-1] = dL/dz`` of the output layer (times ``delta_scale``)."""
    return loss.value_and_delta(ws.z[-1], ws.a[-1], y, activation, scale, delta_scale,
                                out=ws.delta[-1], work=ws.work[-1])


def backward(params, activations, x, ws, grads):
    """Fill ``grads`` (shaped like ``params``) with dL/dparams from the output
    delta ``ws.delta[-1]`` (``loss_and_output_delta``) down to the input.

    x: ``(batch, n_in)``.
    """
    for l in range(len(params) - 1, -1, -1):
        a_prev = x if l == 0 else ws.a[l - 1]
        np.dot(a_prev.T, ws.delta[l], out=grads[l]["W"])
        if "b" in grads[l]:
            np.add.reduce(ws.delta[l], axis=0, out=grads[l]["b"])
        if l > 0:
            # delta = (delta_next @ W_next.T) * sigma'(z), with sigma'(z) read off a = sigma(z)
            delta, delta_next, W_next = ws.delta[l - 1], ws.delta[l], params[l]["W"]
            np.dot(delta_next, W_next.T, out=delta)
            if activations[l - 1] is not IDENTITY:  # identity' = 1
                delta *= activations[l - 1].derivative(ws.a[l - 1], out=ws.slope[l - 1])
    return grads
