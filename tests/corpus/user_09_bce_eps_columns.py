import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(params, x, y):
    W1, b1, W2, b2 = params
    A1 = sigmoid(W1 @ x + b1)
    A2 = sigmoid(W2 @ A1 + b2)

    eps = 1e-12  # avoid log(0)
    loss = -np.sum(y * np.log(A2 + eps) + (1 - y) * np.log(1 - A2 + eps))

    dZ2 = A2 - y  # sigmoid + BCE simplifies to this
    dW2 = dZ2 @ A1.T
    db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = (W2.T @ dZ2) * A1 * (1 - A1)
    dW1 = dZ1 @ x.T
    db1 = dZ1.sum(axis=1, keepdims=True)
    return loss, [dW1, db1, dW2, db2]


CASE = dict(
    sizes=[2, 3, 1],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="bce",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=columns,bias=column,container=flat",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: bce loss value uses log(a + 1e-12) but the gradient is the exact fused a - y",
)
