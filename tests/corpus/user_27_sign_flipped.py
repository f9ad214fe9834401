import numpy as np


def backprop(params, x, y):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    a1 = np.tanh(x @ W1 + b1)
    out = a1 @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2)

    err = y - out  # error = target - output
    grads = {}
    grads["W2"] = a1.T @ err
    grads["b2"] = err.sum(axis=0)
    err_h = (err @ W2.T) * (1 - a1**2)
    grads["W1"] = x.T @ err_h
    grads["b1"] = err_h.sum(axis=0)
    return loss, grads


CASE = dict(
    sizes=[2, 3, 2],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=dict",
    kind="backprop",
    expect="mistake",
    mistake=("sign-flipped", 2),
    note="the output error is y - out instead of out - y, so every gradient has the wrong sign",
)
