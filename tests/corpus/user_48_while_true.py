import numpy as np


def backprop(params, x, y):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]

    # keep going until the loss is small enough
    while True:
        a1 = np.tanh(x @ W1 + b1)
        out = a1 @ W2 + b2
        loss = 0.5 * np.sum((out - y) ** 2)
        if loss < 1e-8:
            break
        d2 = out - y
        d1 = (d2 @ W2.T) * (1 - a1**2)
        grads = {"W1": x.T @ d1, "b1": d1.sum(0), "W2": a1.T @ d2, "b2": d2.sum(0)}
        # TODO: update the weights here
    return loss, grads


CASE = dict(
    sizes=[2, 3, 1],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=dict",
    kind="backprop",
    expect="hostile",
    mistake=None,
    note="loops 'while True' until the loss is small but never updates anything, so it never returns",
)
