import numpy as np


def backprop(params, x, y):
    W1, b1, W2, b2 = params  # W1 is 3x3, biases are (n, 1)
    gW1, gb1 = np.zeros_like(W1), np.zeros_like(b1)
    gW2, gb2 = np.zeros_like(W2), np.zeros_like(b2)
    loss = 0.0

    for n in range(x.shape[1]):
        a0 = x[:, [n]]
        a1 = np.tanh(W1 @ a0 + b1)
        a2 = W2 @ a1 + b2
        loss += 0.5 * np.sum((a2 - y[:, [n]]) ** 2)

        d2 = a2 - y[:, [n]]
        d1 = (W2.T @ d2) * (1 - a1**2)
        gW2 += d2 @ a1.T
        gb2 += d2
        gW1 += d1 @ a0.T
        gb1 += d1.sum(axis=0)  # sum over the batch axis
    return loss, [gW1, gb1, gW2, gb2]


CASE = dict(
    sizes=[3, 3, 1],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=columns,bias=column,container=flat",
    kind="backprop",
    expect="outside",
    mistake=None,
    note="db1 sums d1 over axis 0, which inside the per-sample loop is the unit axis; broadcasting hides it, every entry gets the sum over units",
)
