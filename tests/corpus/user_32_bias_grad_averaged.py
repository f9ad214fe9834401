import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def backprop(params, x, y):
    W1, b1, W2, b2 = params  # b1: (1, 3), b2: (1, 1)
    a1 = sigmoid(x @ W1 + b1)
    a2 = a1 @ W2 + b2
    loss = 0.5 * np.sum((a2 - y) ** 2)

    d2 = a2 - y
    dW2 = a1.T @ d2
    db2 = np.mean(d2, axis=0, keepdims=True)
    d1 = d2 @ W2.T * a1 * (1 - a1)
    dW1 = x.T @ d1
    db1 = np.sum(d1, axis=0, keepdims=True)
    return loss, [dW1, db1, dW2, db2]


CASE = dict(
    sizes=[2, 3, 1],
    activation="sigmoid",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=row,container=flat",
    kind="backprop",
    expect="mistake",
    mistake=("bias-grad-averaged", 2),
    note="db2 is the batch mean of d2 while dW2 (and everything else) sums over the batch",
)
