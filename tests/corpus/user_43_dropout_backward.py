import numpy as np

KEEP = 0.9


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    z1 = x @ W1 + b1
    a1 = np.maximum(0, z1)
    out = a1 @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2)

    d2 = out - y
    d1 = (d2 @ W2.T) * (z1 > 0)
    # dropout on the hidden layer (inverted dropout)
    mask = (np.random.rand(*d1.shape) < KEEP) / KEEP
    d1 = d1 * mask

    return loss, [
        {"W": x.T @ d1, "b": d1.sum(axis=0)},
        {"W": a1.T @ d2, "b": d2.sum(axis=0)},
    ]


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
    expect="outside",
    mistake=None,
    note="applies a fresh random dropout mask to the hidden delta only in the backward pass, so layer-1 grads are random",
)
