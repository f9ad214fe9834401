import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]  # (3, 3)
    W2, b2 = params[1]["W"], params[1]["b"]

    h = np.tanh(x @ W1 + b1)
    out = h @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2)

    d_out = out - y
    grad_W2 = h.T @ d_out
    grad_b2 = d_out.sum(0)

    d_h = (d_out @ W2.T) * (1 - h**2)
    grad_W1 = h.T @ d_h
    grad_b1 = d_h.sum(0)

    return loss, [{"W": grad_W1, "b": grad_b1}, {"W": grad_W2, "b": grad_b2}]


CASE = dict(
    sizes=[3, 3, 1],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("weight-grad-from-output", 1),
    note="grad_W1 is built from the layer's own output h instead of its input x (copy-paste from grad_W2)",
)
