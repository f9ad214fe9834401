# HW3 - backprop for a 1-hidden-layer net, fully vectorized
# loss = 0.5 * mean squared error, mean over every element like torch's MSELoss
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    # forward
    z1 = x @ W1 + b1
    a1 = sigmoid(z1)
    out = a1 @ W2 + b2  # linear output layer

    n = y.size  # batch * n_outputs
    loss = 0.5 * np.sum((out - y) ** 2) / n

    # backward
    d_out = (out - y) / n
    dW2 = a1.T @ d_out
    db2 = d_out.sum(axis=0)
    d_hidden = (d_out @ W2.T) * a1 * (1 - a1)
    dW1 = x.T @ d_hidden
    db1 = d_hidden.sum(axis=0)

    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[3, 4, 2],
    activation="sigmoid",
    output_activation="identity",
    loss="mse",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: vectorized rows, mean-reduced mse with 2 outputs divided by batch*n_out",
)
