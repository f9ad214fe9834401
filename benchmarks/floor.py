"""The floor: the tiny net's SGD step as straight-line NumPy, no structure at all.

Every NumPy call the engine's step makes for a 2-layer sigmoid net with mse
(forward, loss, backward, update), in the same order on preallocated arrays,
but written out as one function with the functions bound to locals: no
classes, no loops, no dict lookups, no method calls. For arrays of 8
numbers a NumPy call costs ~0.4 us whatever it computes, so this is the
fastest any NumPy implementation of this step can be; its time over
jax.jit's says whether a target on the tiny step is reachable at all.
"""

import numpy as np

from manual.optim import allocate_like


class StraightLineStep:
    """The step for ``net`` (2 layers, sigmoid, mse, sum) on x ``(batch, 2)``, y ``(batch, 1)``."""

    def __init__(self, net, x, y, lr):
        if net.n_layers != 2 or set(net.activations) != {"sigmoid"} or net.loss_name != "mse":
            raise ValueError("the straight-line step is written for the tiny net: 2 sigmoid layers, mse")
        self.net, self.x, self.y, self.lr = net.copy(), x, y, lr
        batch = len(x)
        (n1, n2) = net.sizes[1:]
        self.bufs = {
            name: np.empty((batch, n), x.dtype)
            for name, n in (
                ("z1", n1),
                ("a1", n1),
                ("w1", n1),
                ("d1", n1),
                ("z2", n2),
                ("a2", n2),
                ("w2", n2),
                ("d2", n2),
            )
        }
        self.grads_flat, self.grads = allocate_like(self.net.param_views)
        self.scratch = np.empty_like(self.grads_flat)

    def __call__(self):
        return _step(
            self.x,
            self.y,
            self.lr,
            self.net.param_views,
            self.net.flat_params,
            self.grads,
            self.grads_flat,
            self.scratch,
            **self.bufs,
        )


def _step(
    x,
    y,
    lr,
    params,
    flat,
    grads,
    grads_flat,
    scratch,
    z1,
    a1,
    w1,
    d1,
    z2,
    a2,
    w2,
    d2,
    dot=np.dot,
    add=np.add,
    sub=np.subtract,
    mul=np.multiply,
    minimum=np.minimum,
    exp=np.exp,
    absolute=np.abs,
    neg=np.negative,
    div=np.divide,
    reduce=np.add.reduce,
    vdot=np.vdot,
):
    (p1, p2), (g1, g2) = params, grads
    W1, b1, W2, b2 = p1["W"], p1["b"], p2["W"], p2["b"]
    dot(x, W1, out=z1)
    add(z1, b1, out=z1)
    minimum(z1, 0, out=a1), exp(a1, out=a1), absolute(z1, out=w1), neg(w1, out=w1), exp(w1, out=w1)
    add(w1, 1, out=w1), div(a1, w1, out=a1)
    dot(a1, W2, out=z2)
    add(z2, b2, out=z2)
    minimum(z2, 0, out=a2), exp(a2, out=a2), absolute(z2, out=w2), neg(w2, out=w2), exp(w2, out=w2)
    add(w2, 1, out=w2), div(a2, w2, out=a2)
    sub(a2, y, out=d2)
    loss = 0.5 * float(vdot(d2, d2))
    sub(1, a2, out=w2), mul(a2, w2, out=w2), mul(d2, w2, out=d2)
    dot(a1.T, d2, out=g2["W"])
    reduce(d2, axis=0, out=g2["b"])
    dot(d2, W2.T, out=d1)
    sub(1, a1, out=w1), mul(a1, w1, out=w1), mul(d1, w1, out=d1)
    dot(x.T, d1, out=g1["W"])
    reduce(d1, axis=0, out=g1["b"])
    mul(grads_flat, lr, out=scratch)
    sub(flat, scratch, out=flat)
    return loss


class MakemoreStep:
    """The names model's SGD step (crosscheck.makemore: Embedding, Flatten, Linear without bias,
    BatchNorm1d, Tanh, Linear, cross-entropy from labels) as straight-line NumPy: every
    equation written out once, in order, no layers, no caches, no loops but np.add.at.
    The step the engine's Sequential takes, without its structure: its floor."""

    def __init__(self, net, x, y, lr):
        self.net, self.x, self.y, self.lr = net, x, y, lr
        p = net.param_views
        self.C, self.W1, self.gamma, self.beta, self.W2, self.b2 = (
            p[0]["W"], p[2]["W"], p[3]["gamma"], p[3]["beta"], p[5]["W"], p[5]["b"],
        )  # fmt: skip
        self.running = net.buffers[3]
        self.eps, self.momentum = net.layers[3].eps, net.layers[3].momentum

    def __call__(self):
        x, y, lr = self.x, self.y, self.lr
        C, W1, gamma, beta, W2, b2 = self.C, self.W1, self.gamma, self.beta, self.W2, self.b2
        n = len(x)
        # forward
        h = C[x].reshape(n, -1)
        hpre = h @ W1
        mean = hpre.mean(axis=0)
        xc = hpre - mean
        var = (xc * xc).mean(axis=0)
        r = 1 / np.sqrt(var + self.eps)
        xhat = xc * r
        a = np.tanh(gamma * xhat + beta)
        logits = a @ W2 + b2
        m = self.momentum
        self.running["running_mean"] *= 1 - m
        self.running["running_mean"] += m * mean
        self.running["running_var"] *= 1 - m
        self.running["running_var"] += m * var * (n / (n - 1))
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.mean(np.log(s[:, 0]) - shifted[rows, y]))
        # backward
        dlogits = e / s
        dlogits[rows, y] -= 1
        dlogits /= n
        dW2 = a.T @ dlogits
        db2 = dlogits.sum(axis=0)
        dpre = (dlogits @ W2.T) * (1 - a * a)
        dgamma = (dpre * xhat).sum(axis=0)
        dbeta = dpre.sum(axis=0)
        dhpre = (gamma * r / n) * (n * dpre - dbeta - xhat * dgamma)  # the engine's algebra (batchnorm.py)
        dW1 = h.T @ dhpre
        dC = np.zeros_like(C)
        np.add.at(dC, x.reshape(-1), (dhpre @ W1.T).reshape(-1, C.shape[1]))
        # update
        C -= lr * dC
        W1 -= lr * dW1
        gamma -= lr * dgamma
        beta -= lr * dbeta
        W2 -= lr * dW2
        b2 -= lr * db2
        return loss
