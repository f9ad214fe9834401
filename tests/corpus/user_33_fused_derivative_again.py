import numpy as np


def backprop(params, x, y):
    lin1, lin2 = params
    h = np.tanh(x @ lin1["W"].T + lin1["b"])
    p = 1 / (1 + np.exp(-(h @ lin2["W"].T + lin2["b"])))

    n = y.shape[0] * y.shape[1]
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    # dL/dz2 for BCE + sigmoid, then through the sigmoid
    dz2 = (p - y) / n
    dz2 = dz2 * p * (1 - p)
    dW2 = dz2.T @ h
    db2 = dz2.sum(axis=0)
    dh = dz2 @ lin2["W"]
    dz1 = dh * (1 - h**2)
    dW1 = dz1.T @ x
    db1 = dz1.sum(axis=0)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[3, 4, 1],
    activation="tanh",
    output_activation="sigmoid",
    loss="bce",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("fused-derivative-again", 2),
    note="(p - y) is already dL/dz for bce+sigmoid, but it is multiplied by p*(1-p) once more",
)
