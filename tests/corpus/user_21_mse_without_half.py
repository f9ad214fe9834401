import numpy as np


def backprop(params, x, y):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    a1 = np.tanh(x @ W1 + b1)
    a2 = 1 / (1 + np.exp(-(a1 @ W2 + b2)))

    loss = np.sum((a2 - y) ** 2)  # squared error
    d2 = 2 * (a2 - y) * a2 * (1 - a2)
    d1 = (d2 @ W2.T) * (1 - a1 * a1)

    return loss, {
        "W1": x.T @ d1,
        "b1": d1.sum(axis=0, keepdims=True),
        "W2": a1.T @ d2,
        "b2": d2.sum(axis=0, keepdims=True),
    }


CASE = dict(
    sizes=[3, 2, 1],
    activation="tanh",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=row,container=dict",
    kind="backprop",
    expect="mistake",
    mistake=("mse-without-half", 2),
    note="uses sum (a - y)^2 without the 0.5, consistently, so both the loss and all gradients are 2x",
)
