import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    z1 = np.dot(x, W1) + b1
    h = np.maximum(z1, 0.0)
    pred = np.dot(h, W2) + b2
    loss = 0.5 * np.sum((pred - y) ** 2)

    # d/dpred of (pred - y)^2 = 2 (pred - y)
    dpred = 2 * (pred - y)
    dW2 = np.dot(h.T, dpred)
    db2 = dpred.sum(axis=0)
    dh = np.dot(dpred, W2.T)
    dh[z1 <= 0] = 0.0
    dW1 = np.dot(x.T, dh)
    db1 = dh.sum(axis=0)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


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
    expect="mistake",
    mistake=("mse-half-forgotten", 2),
    note="loss has the 0.5 but the gradient starts from 2*(pred - y), so every gradient is 2x",
)
