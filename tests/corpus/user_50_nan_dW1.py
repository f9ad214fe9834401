import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    z1 = x @ W1 + b1
    a1 = np.tanh(z1)
    out = a1 @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2)

    d2 = out - y
    d1 = (d2 @ W2.T) * (1 - a1**2)
    dW1 = x.T @ d1
    db1 = d1.sum(axis=0)

    # damp the first hidden unit's gradient by how saturated it is (my own idea)
    sat = d1[:, 0][np.abs(z1[:, 0]) > 50]
    dW1[:, 0] *= 1.0 / (1.0 + np.mean(np.abs(sat)))

    return loss, [{"W": dW1, "b": db1}, {"W": a1.T @ d2, "b": d2.sum(axis=0)}]


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
    expect="hostile",
    mistake=None,
    note="dW1[:, 0] is multiplied by 1/(1 + mean of an empty array), so that column is NaN (0/0) whenever no |z| > 50",
)
