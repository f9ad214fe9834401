import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    a1 = np.tanh(x @ W1 + b1)
    out = a1 @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2)

    delta2 = out - y
    dW2 = a1.T @ delta2
    db2 = delta2.sum(axis=0)
    delta1 = (delta2 @ W2.T) * (1 - a1**2)
    dW1 = 0.5 * x.T @ delta1  # the 1/2 from the loss
    db1 = delta1.sum(axis=0)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[3, 4, 2],
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
    note="everything is right except dW1, which is scaled by a stray 0.5 (db1 and layer 2 are right)",
)
