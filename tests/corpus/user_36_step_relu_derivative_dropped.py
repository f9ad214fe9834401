import numpy as np


def step(params, x, y, lr):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))

    h = np.maximum(0, x @ W1.T + b1)
    out = h @ W2.T + b2

    d_out = out - y
    d_h = d_out @ W2  # back through the relu layer

    return {
        "W1": W1 - lr * (d_h.T @ x),
        "b1": b1 - lr * d_h.sum(axis=0),
        "W2": W2 - lr * (d_out.T @ h),
        "b2": b2 - lr * d_out.sum(axis=0),
    }


CASE = dict(
    sizes=[3, 4, 2],
    activation="relu",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=rows,bias=flat,container=dict",
    kind="step",
    expect="mistake",
    mistake=("hidden-derivative-dropped", 1),
    note="SGD step whose hidden delta d_h = d_out @ W2 never applies the relu mask (z1 > 0)",
)
