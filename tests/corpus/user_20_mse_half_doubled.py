import numpy as np


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(params, x, y):
    W = params[0::2]  # [W1, W2, W3], each (out, in) like nn.Linear
    b = params[1::2]
    a = [x]
    for i in range(3):
        z = a[-1] @ W[i].T + b[i]
        a.append(z if i == 2 else sig(z))

    loss = 0.5 * np.sum((a[3] - y) ** 2)
    d = 0.5 * (a[3] - y)  # derivative of the 0.5 * err^2 term

    grads = [None] * 6
    for i in (2, 1, 0):
        grads[2 * i] = d.T @ a[i]
        grads[2 * i + 1] = d.sum(axis=0)
        if i > 0:
            d = (d @ W[i]) * a[i] * (1 - a[i])
    return loss, grads


CASE = dict(
    sizes=[2, 3, 3, 2],
    activation="sigmoid",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=rows,bias=flat,container=flat",
    kind="backprop",
    expect="mistake",
    mistake=("mse-half-doubled", 3),
    note="keeps the 0.5 in the gradient too, output delta is 0.5*(a - y), so every gradient is half",
)
