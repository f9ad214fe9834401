import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    z1 = x @ W1 + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2 + b2
    a2 = sigmoid(z2)
    loss = 0.5 * np.sum((a2 - y) ** 2)

    delta2 = (a2 - y) * sigmoid_prime(z2)
    delta1 = (delta2 @ W2.T) * sigmoid_prime(z2)  # (m, 3) * (m, 1)

    return loss, [
        {"W": x.T @ delta1, "b": delta1.sum(axis=0)},
        {"W": a1.T @ delta2, "b": delta2.sum(axis=0)},
    ]


CASE = dict(
    sizes=[2, 3, 1],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="outside",
    mistake=None,
    note="the hidden delta multiplies by the output layer's sigmoid_prime(z2), broadcast from (m, 1), instead of sigmoid_prime(z1)",
)
