"""The roofline: a training step's matrix products alone, in NumPy.

The engine's step (``manual/backprop.py``) does, per layer l with input
``a_prev`` ``(batch, n_in)`` and weights ``W`` ``(n_in, n_out)``:

    forward    a_prev @ W          (batch, n_in) @ (n_in, n_out)
    backward   a_prev.T @ delta    (n_in, batch) @ (batch, n_out)   -> dW
               delta @ W.T         (batch, n_out) @ (n_out, n_in)   every layer but the first

``MatmulKernel`` runs exactly these products, with the same transposes
(views, as the engine passes them: BLAS reads them transposed, no copy)
into preallocated outputs, and nothing else. Its time is what the machine's
BLAS needs for the step's arithmetic; ``time(kernel) / time(step)`` is the
fraction of that speed the engine's step reaches.
"""

import numpy as np


def matmul_flops(sizes, batch):
    """Floating-point operations of one step's products: 2 m k n each, three
    products per layer, two for the first (no delta goes back to x)."""
    flops = 0
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        per_product = 2 * batch * n_in * n_out
        flops += per_product * (3 if l > 0 else 2)
    return flops


class MatmulKernel:
    """The step's products on fixed operands.

    x: ``(batch, n_in)``; params: the net's ``[{"W": (n_in, n_out), ...}]``;
    acts[l], deltas[l]: ``(batch, n_out_l)`` per layer (any values of the
    right shape and dtype: a real forward/backward's, from ``net.trace``).
    """

    def __init__(self, x, params, acts, deltas):
        self.Ws = [layer["W"] for layer in params]
        self.inputs = [x, *acts[:-1]]  # a_prev per layer
        self.deltas = list(deltas)
        # outputs: the operands are never written, so every call does the same work
        self.z = [np.empty_like(a) for a in acts]
        self.dW = [np.empty_like(W) for W in self.Ws]
        self.da = [np.empty_like(a_prev) for a_prev in self.inputs]

    @classmethod
    def for_net(cls, net, x, y):
        trace = net.trace(x, y)
        return cls(x, net.params, [t.a for t in trace.layers], [t.delta for t in trace.layers])

    def __call__(self):
        # np.dot, as the engine calls them
        for a_prev, W, z in zip(self.inputs, self.Ws, self.z):
            np.dot(a_prev, W, out=z)
        for l in range(len(self.Ws) - 1, -1, -1):
            np.dot(self.inputs[l].T, self.deltas[l], out=self.dW[l])
            if l > 0:
                np.dot(self.deltas[l], self.Ws[l].T, out=self.da[l])
