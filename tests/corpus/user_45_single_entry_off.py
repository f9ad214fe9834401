import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    a1 = np.tanh(x @ W1 + b1)
    out = a1 @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2)

    d2 = out - y
    dW2 = a1.T @ d2
    db2 = d2.sum(axis=0)
    d1 = (d2 @ W2.T) * (1 - a1**2)

    # dW1[i, j] = sum_n x[n, i] * d1[n, j], written out to be sure
    dW1 = np.zeros_like(W1)
    for k in range(W1.size - 1):
        i, j = divmod(k, W1.shape[1])
        dW1[i, j] = np.dot(x[:, i], d1[:, j])
    db1 = d1.sum(axis=0)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[2, 3, 1],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="outside",
    mistake=None,
    note="the explicit loop that fills dW1 stops one entry short, so only dW1[-1, -1] stays 0",
)
