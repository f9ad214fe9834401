import numpy as np


def backprop(params, x, y):
    w1, b1, w2, b2 = params
    z1 = x @ w1 + b1
    h = np.maximum(z1, 0)
    p = 1.0 / (1.0 + np.exp(-(h @ w2 + b2)))

    loss = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))

    dz2 = p - y
    dw2 = h.T @ dz2
    db2 = dz2.sum(axis=0)
    dz1 = (dz2 @ w2.T) * (z1 > 0)
    dw1 = x.T @ dz1
    db1 = dz1.sum(axis=0)
    return loss, [dw1, db1, dw2, db2]


CASE = dict(
    sizes=[2, 4, 1],
    activation="relu",
    output_activation="sigmoid",
    loss="bce",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=flat",
    kind="backprop",
    expect="mistake",
    mistake=("loss-summed", 2),
    note="the net is mean-reduced bce but the loss and the gradients are both summed over the batch",
)
