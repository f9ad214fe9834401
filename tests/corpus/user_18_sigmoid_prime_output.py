import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def backprop(params, x, y):
    z1 = x @ params["W1"] + params["b1"]
    a1 = np.maximum(0, z1)
    z2 = a1 @ params["W2"] + params["b2"]
    a2 = sigmoid(z2)
    loss = 0.5 * np.sum((a2 - y) ** 2)

    d2 = (a2 - y) * sigmoid_prime(a2)
    d1 = d2 @ params["W2"].T * (z1 > 0)

    grads = {
        "W1": x.T @ d1,
        "b1": d1.sum(axis=0),
        "W2": a1.T @ d2,
        "b2": d2.sum(axis=0),
    }
    return loss, grads


CASE = dict(
    sizes=[2, 3, 1],
    activation="relu",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=dict",
    kind="backprop",
    expect="mistake",
    mistake=("derivative-of-output", 2),
    note="sigmoid_prime(z) is applied to a2 = sigmoid(z2) instead of z2 at the output layer",
)
