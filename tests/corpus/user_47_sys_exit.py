import sys

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(params, x, y):
    W1, b1, W2, b2 = params
    a1 = sigmoid(x @ W1 + b1)
    a2 = a1 @ W2 + b2
    loss = 0.5 * np.sum((a2 - y) ** 2)
    d2 = a2 - y
    d1 = (d2 @ W2.T) * a1 * (1 - a1)
    grads = [x.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)]
    print("loss:", loss)
    print("grad norms:", [float(np.linalg.norm(g)) for g in grads])
    sys.exit(0)  # stop here while debugging
    return loss, grads


CASE = dict(
    sizes=[2, 3, 1],
    activation="sigmoid",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=flat",
    kind="backprop",
    expect="hostile",
    mistake=None,
    note="calls sys.exit(0) inside backprop (a leftover debugging stop) before it returns",
)
