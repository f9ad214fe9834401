import numpy as np


def softmax(z):
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=1, keepdims=True)


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    a1 = np.tanh(x @ W1 + b1)
    p = softmax(a1 @ W2 + b2)
    loss = np.mean(-y * np.log(p))

    dz2 = (p - y) / p.size
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0)
    dz1 = dz2 @ W2.T * (1 - a1**2)
    dW1 = x.T @ dz1
    db1 = dz1.sum(axis=0)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[3, 4, 3],
    activation="tanh",
    output_activation="softmax",
    loss="cross_entropy",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("loss-mean-over-all", 2),
    note="np.mean(-y*log(p)) averages over batch*classes, so loss and gradients are 1/3 of the per-sample mean",
)
