import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    z1 = x @ W1 + b1
    a1 = np.maximum(z1, 0)
    out = a1 @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2)

    dout = out - y
    dW2, db2 = a1.T @ dout, dout.sum(axis=0)
    dz1 = (dout @ W2.T) * (z1 > 0)
    dW1, db1 = x.T @ dz1, dz1.sum(axis=0)
    return loss, (dW1, db1, dW2, db2)


CASE = dict(
    sizes=[3, 4, 2],
    activation="relu",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="hostile",
    mistake=None,
    note="gradient values are right but returned as a flat tuple (dW1, db1, dW2, db2) instead of a list of {'W','b'} dicts",
)
