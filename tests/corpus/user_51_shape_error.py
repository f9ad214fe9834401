import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]  # (3, 4)
    W2, b2 = params[1]["W"], params[1]["b"]  # (4, 2)

    h = np.maximum(0, x @ W1 + b1)
    out = h @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2)

    d_out = out - y
    d_h = np.dot(d_out, W2) * (h > 0)  # (m, 2) . (4, 2) -> ValueError
    return loss, [{"W": x.T @ d_h, "b": d_h.sum(0)}, {"W": h.T @ d_out, "b": d_out.sum(0)}]


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
    note="forgets to transpose a non-square W2, so np.dot raises a shapes-not-aligned ValueError on every call",
)
