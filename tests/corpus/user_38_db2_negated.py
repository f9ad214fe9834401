import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(params, x, y):
    W1, b1, W2, b2 = params
    a1 = sigmoid(x @ W1.T + b1)
    a2 = sigmoid(a1 @ W2.T + b2)
    loss = 0.5 * np.sum((a2 - y) ** 2)

    d2 = (a2 - y) * a2 * (1 - a2)
    dW2 = d2.T @ a1
    db2 = np.sum((y - a2) * a2 * (1 - a2), axis=0)
    d1 = (d2 @ W2) * a1 * (1 - a1)
    dW1 = d1.T @ x
    db1 = np.sum(d1, axis=0)
    return loss, [dW1, db1, dW2, db2]


CASE = dict(
    sizes=[2, 3, 1],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=rows,bias=flat,container=flat",
    kind="backprop",
    expect="outside",
    mistake=None,
    note="only db2 has the wrong sign (written with y - a2); every other gradient, including d1, is right",
)
