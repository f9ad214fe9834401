import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    a1 = np.tanh(x @ W1.T + b1)
    out = a1 @ W2.T + b2
    loss = 0.5 * np.sum((out - y) ** 2)
    print("loss =", loss)
    input("press Enter to continue...")

    d2 = out - y
    d1 = (d2 @ W2) * (1 - a1**2)
    return loss, [{"W": d1.T @ x, "b": d1.sum(0)}, {"W": d2.T @ a1, "b": d2.sum(0)}]


CASE = dict(
    sizes=[2, 3, 1],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="hostile",
    mistake=None,
    note="waits on input() inside backprop (blocks on a terminal, EOFError with no stdin); the gradients are otherwise correct",
)
