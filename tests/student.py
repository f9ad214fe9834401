"""A student's backprop, written the other way round from the engine and from
crosscheck.mistakes: one sample at a time, column vectors, W of shape
(n_out, n_in), every derivative computed from z. It can make any mistake of
the catalogue on purpose, each coded here by hand, so the harness's diagnosis
is tested against mistakes it did not make itself.

``backprop(net, x, y, mistake, layer)`` -> ``(loss, dW, db)``: lists per layer
(1-based layer numbers), dW[l] of shape (n_out, n_in), db[l] of (n_out,) or None.
"""

import math

import numpy as np


def _sigmoid(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def f(name, z):
    if name == "sigmoid":
        return np.vectorize(_sigmoid, otypes=[float])(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "identity":
        return z.copy()
    e = np.exp(z - z.max())
    return e / e.sum()  # softmax


def f_prime(name, z):
    """f'(z) from z."""
    if name == "sigmoid":
        s = f("sigmoid", z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    return np.ones_like(z)  # identity


def wrong_prime(name, z, mistake):
    """The derivative as a mistake computes it."""
    if mistake == "derivative-formula-fed-z":  # the formula in a = f(z), given z
        return z * (1 - z) if name == "sigmoid" else 1 - z**2
    if mistake == "derivative-of-output":  # f'(a) instead of f'(z)
        return f_prime(name, f(name, z))
    if mistake == "hidden-derivative-dropped":
        return np.ones_like(z)
    return f_prime(name, z)


def backprop(net, x, y, mistake=None, layer=None):
    L = net.n_layers
    W = [None] + [np.asarray(p["W"], np.float64).T for p in net.params]  # (n_out, n_in)
    b = [None] + [np.asarray(p["b"], np.float64) if "b" in p else None for p in net.params]
    acts = [None, *net.activations]
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    batch = len(x)
    dW = [None] + [np.zeros_like(w) for w in W[1:]]
    db = [None] + [None if bb is None else np.zeros_like(bb) for bb in b[1:]]
    total = 0.0
    here = lambda m, l: mistake == m and layer == l  # noqa: E731
    for s in range(batch):
        a, z = [x[s]], [None]
        for l in range(1, L + 1):
            z.append(W[l] @ a[l - 1] + (0.0 if b[l] is None else b[l]))
            a.append(f(acts[l], z[l]))
        out, t = a[L], y[s]
        if net.loss_name == "mse":
            if here("mse-without-half", L):  # the loss (a - y)**2, and its own gradient
                total += float(((out - t) ** 2).sum())
                g = 2 * (out - t)
            else:
                total += 0.5 * float(((out - t) ** 2).sum())
                g = out - t
            if here("mse-half-forgotten", L):
                g = 2 * g
            if here("mse-half-doubled", L):
                g = 0.5 * g
            if here("sign-flipped", L):
                g = -g
            if acts[L] == "softmax":
                jacobian = np.diag(out) - np.outer(out, out)
                delta = g * out * (1 - out) if here("softmax-elementwise", L) else jacobian.T @ g
            elif here("output-derivative-dropped", L):
                delta = g
            else:
                delta = g * wrong_prime(acts[L], z[L], mistake if layer == L else None)
        else:
            if net.loss_name == "bce":
                total += float(sum(-(ti * math.log(o) + (1 - ti) * math.log(1 - o)) for o, ti in zip(out, t)))
            else:
                total += float(-(t * np.log(out)).sum())
            delta = (t - out) if here("sign-flipped", L) else (out - t)
            if here("fused-derivative-again", L):
                if acts[L] == "softmax":
                    delta = (np.diag(out) - np.outer(out, out)).T @ delta
                else:
                    delta = delta * f_prime(acts[L], z[L])
        g_here = g if net.loss_name == "mse" else None  # dL/da of the layer, before its f'
        for l in range(L, 0, -1):
            source = (
                a[l]
                if here("weight-grad-from-output", l)
                else a[0]
                if here("weight-grad-from-input", l)
                else a[l - 1]
            )
            dW[l] += np.outer(delta, source)
            if db[l] is not None and not (here("bias-grad-one-sample", l) and s > 0):
                db[l] += delta
            if l > 1:
                sent = g_here if here("derivative-dropped-going-down", l) else delta
                back = (W[l] @ sent) if here("weights-not-transposed", l) else (W[l].T @ sent)
                g_here = back
                delta = back * wrong_prime(acts[l - 1], z[l - 1], mistake if layer == l - 1 else None)
    # the reduction: what the loss is divided by, and what the gradients are
    count = batch * y.shape[1] if net.loss_name != "cross_entropy" else batch
    divide = count if net.reduction == "mean" else 1
    loss_divide = divide
    if here("sum-for-mean", L):
        divide = 1
    if here("mean-for-sum", L):
        divide = batch
    for key, theirs in (
        ("loss-summed", 1),
        ("loss-mean-over-samples", batch),
        ("loss-mean-over-all", batch * y.shape[1]),
    ):
        if here(key, L):
            divide = loss_divide = theirs
    total /= loss_divide
    dW = [None] + [d / divide for d in dW[1:]]
    db = [None] + [None if d is None else d / divide for d in db[1:]]
    for l in range(1, L + 1):
        if db[l] is not None and here("bias-grad-averaged", l):
            db[l] = db[l] / batch
    return total, dW, db


# ------------------------------------------------------------------ in every layout, by hand


def function(net, layout, mistake=None, layer=None):
    """The student's backprop as a user's ``fn(params, x, y) -> (loss, grads)``
    in ``layout``: params unpacked and grads packed here, by hand, for each choice."""

    def fn(params, x, y):
        layers = unpack(params, layout, net)
        W = [None] + [w if layout.weights == "out_in" else w.T for w, _ in layers]
        b = [None] + [None if bb is None else np.ravel(bb) for _, bb in layers]
        if layout.samples == "columns":
            x, y = x.T, y.T
        student_net = with_params(net, W, b)
        loss, dW, db = backprop(student_net, x, y, mistake, layer)
        out = []
        for l in range(1, net.n_layers + 1):
            w = dW[l] if layout.weights == "out_in" else dW[l].T
            bb = (
                None
                if db[l] is None
                else {"flat": db[l], "row": db[l][None, :], "column": db[l][:, None]}[layout.bias]
            )
            out.append((w, bb))
        return loss, pack(out, layout)

    return fn


def step_function(net, layout, mistake=None, layer=None):
    """The student's SGD step, ``step(params, x, y, lr) -> params``, in ``layout``:
    the gradient above, or (mistake "update-before-backprop") an update of W at
    ``layer`` before the delta goes back through it."""
    grad = function(net, layout, None if mistake == "update-before-backprop" else mistake, layer)

    def step(params, x, y, lr):
        if mistake == "update-before-backprop":
            return _update_first(net, params, x, y, lr, layout, layer)
        _, grads = grad(params, x, y)
        if layout.container == "dict":
            return {k: params[k] - lr * grads[k] for k in params}
        if layout.container == "flat":
            return [p - lr * g for p, g in zip(params, grads)]
        return [{k: p[k] - lr * g[k] for k in p} for p, g in zip(params, grads)]

    return step


def _update_first(net, params, x, y, lr, layout, at):
    """Sigmoid/mse nets only: the step done layer by layer from the output, each W
    updated as soon as its gradient is known, before the delta goes back through it."""
    layers = unpack(params, layout, net)
    W = [None] + [np.array(w if layout.weights == "out_in" else w.T, dtype=float) for w, _ in layers]
    b = [None] + [None if bb is None else np.ravel(bb).astype(float) for _, bb in layers]
    if layout.samples == "columns":
        x, y = x.T, y.T
    L = net.n_layers
    a, z = [x], [None]
    for l in range(1, L + 1):
        z.append(a[l - 1] @ W[l].T + (0.0 if b[l] is None else b[l]))
        a.append(f_rows(net.activations[l - 1], z[l]))
    delta = (a[L] - y) * f_prime(net.activations[L - 1], z[L])
    for l in range(L, 0, -1):
        old = W[l].copy()
        W[l] = W[l] - lr * delta.T @ a[l - 1]
        if b[l] is not None:
            b[l] = b[l] - lr * delta.sum(axis=0)
        if l > 1:
            through = W[l] if l == at else old
            delta = (delta @ through) * f_prime(net.activations[l - 2], z[l - 1])
    out = []
    for l in range(1, L + 1):
        w = W[l] if layout.weights == "out_in" else W[l].T
        bb = (
            None
            if b[l] is None
            else {"flat": b[l], "row": b[l][None, :], "column": b[l][:, None]}[layout.bias]
        )
        out.append((w, bb))
    return pack(out, layout)


def f_rows(name, z):
    return np.array([f(name, row) for row in z])


def unpack(params, layout, net):
    """[(W, b or None)] per layer, in the layout's own shapes."""
    names = [(l, k) for l in range(1, net.n_layers + 1) for k in ("W", "b") if k == "W" or net.bias[l - 1]]
    if layout.container == "layers":
        return [(p["W"], p.get("b")) for p in params]
    values = (
        dict(zip(names, params))
        if layout.container == "flat"
        else {(l, k): params[f"{k}{l}"] for l, k in names}
    )
    return [(values[(l, "W")], values.get((l, "b"))) for l in range(1, net.n_layers + 1)]


def pack(layers, layout):
    if layout.container == "layers":
        return [{"W": w} if bb is None else {"W": w, "b": bb} for w, bb in layers]
    if layout.container == "flat":
        return [v for w, bb in layers for v in ((w,) if bb is None else (w, bb))]
    return {
        f"{k}{l}": v
        for l, (w, bb) in enumerate(layers, start=1)
        for k, v in (("W", w), ("b", bb))
        if v is not None
    }


class _Params:
    """What ``backprop`` reads of a net, with other weights."""

    def __init__(self, net, W, b):
        self.n_layers, self.activations, self.loss_name, self.reduction = (
            net.n_layers,
            net.activations,
            net.loss_name,
            net.reduction,
        )
        self.params = [
            {"W": W[l].T} if b[l] is None else {"W": W[l].T, "b": b[l]} for l in range(1, net.n_layers + 1)
        ]


def with_params(net, W, b):
    return _Params(net, W, b)
