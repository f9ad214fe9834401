import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def step(params, x, y, lr):
    W1, b1 = params[0]["W"].copy(), params[0]["b"].copy()
    W2, b2 = params[1]["W"].copy(), params[1]["b"].copy()

    a1 = sigmoid(x @ W1 + b1)
    a2 = sigmoid(a1 @ W2 + b2)

    # output layer
    d2 = (a2 - y) * a2 * (1 - a2)
    W2 -= lr * (a1.T @ d2)
    b2 -= lr * d2.sum(axis=0)

    # hidden layer
    d1 = (d2 @ W2.T) * a1 * (1 - a1)
    W1 -= lr * (x.T @ d1)
    b1 -= lr * d1.sum(axis=0)

    return [{"W": W1, "b": b1}, {"W": W2, "b": b2}]


CASE = dict(
    sizes=[2, 3, 1],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="step",
    expect="mistake",
    mistake=("update-before-backprop", 2),
    note="W2 is updated in place before d1 is computed, so the hidden delta uses the new W2",
)
