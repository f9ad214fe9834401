import numpy as np


def backprop(params, x, y):
    (W1, b1), (W2, b2), (W3, b3) = [(p["W"], p["b"]) for p in params]

    h1 = np.tanh(x @ W1.T + b1)
    h2 = np.tanh(h1 @ W2.T + b2)
    out = h2 @ W3.T + b3
    loss = 0.5 * np.sum((out - y) ** 2)

    d3 = out - y
    d2 = d3 @ W3
    d1 = (d2 @ W2) * (1 - h1**2)

    return loss, [
        {"W": d1.T @ x, "b": d1.sum(0)},
        {"W": d2.T @ h1, "b": d2.sum(0)},
        {"W": d3.T @ h2, "b": d3.sum(0)},
    ]


CASE = dict(
    sizes=[2, 4, 3, 1],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("hidden-derivative-dropped", 2),
    note="the second hidden layer's delta d2 = d3 @ W3 is missing the tanh derivative (1 - h2**2)",
)
