import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]  # 3x3
    W3, b3 = params[2]["W"], params[2]["b"]

    A1 = sigmoid(W1 @ x + b1)
    A2 = sigmoid(W2 @ A1 + b2)
    A3 = W3 @ A2 + b3
    loss = 0.5 * np.sum((A3 - y) ** 2)

    dZ3 = A3 - y
    dZ2 = (W3.T @ dZ3) * A2 * (1 - A2)
    dZ1 = (W2 @ dZ2) * A1 * (1 - A1)

    return loss, [
        {"W": dZ1 @ x.T, "b": dZ1.sum(axis=1, keepdims=True)},
        {"W": dZ2 @ A1.T, "b": dZ2.sum(axis=1, keepdims=True)},
        {"W": dZ3 @ A2.T, "b": dZ3.sum(axis=1, keepdims=True)},
    ]


CASE = dict(
    sizes=[2, 3, 3, 1],
    activation="sigmoid",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=columns,bias=column,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("weights-not-transposed", 2),
    note="dZ1 uses W2 @ dZ2 instead of W2.T @ dZ2; it runs only because W2 is square",
)
