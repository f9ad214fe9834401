import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]
    m = x.shape[1]  # number of examples

    A1 = sigmoid(W1 @ x + b1)
    A2 = W2 @ A1 + b2
    loss = 0.5 * np.sum((A2 - y) ** 2) / m

    dZ2 = (A2 - y) / m
    dW2 = dZ2 @ A1.T
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = W2.T @ dZ2 * A1 * (1 - A1)
    dW1 = dZ1 @ x.T
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[3, 4, 2],
    activation="sigmoid",
    output_activation="identity",
    loss="mse",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=columns,bias=column,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("loss-mean-over-samples", 2),
    note="divides loss and gradients by m only, but the mean rule for 2 outputs divides by m*2",
)
