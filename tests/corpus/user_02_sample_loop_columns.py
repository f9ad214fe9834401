import numpy as np


def sig(z):
    return 1 / (1 + np.exp(-z))


def backprop(params, x, y):
    """x: (n_in, m), y: (n_out, m). One sample at a time, column vectors."""
    W1 = params[0]["W"]
    b1 = params[0]["b"]
    W2 = params[1]["W"]
    b2 = params[1]["b"]

    gW1 = np.zeros_like(W1)
    gb1 = np.zeros_like(b1)
    gW2 = np.zeros_like(W2)
    gb2 = np.zeros_like(b2)
    loss = 0.0

    m = x.shape[1]
    for i in range(m):
        a0 = x[:, i : i + 1]  # (n_in, 1)
        t = y[:, i : i + 1]  # (n_out, 1)
        z1 = W1 @ a0 + b1
        a1 = np.tanh(z1)
        z2 = W2 @ a1 + b2
        a2 = sig(z2)
        loss += 0.5 * float(np.sum((a2 - t) ** 2))

        delta2 = (a2 - t) * a2 * (1 - a2)
        delta1 = (W2.T @ delta2) * (1 - a1**2)

        # accumulate over the batch
        gW2 += delta2 @ a1.T
        gb2 += delta2
        gW1 += delta1 @ a0.T
        gb1 += delta1

    return loss, [{"W": gW1, "b": gb1}, {"W": gW2, "b": gb2}]


CASE = dict(
    sizes=[2, 3, 1],
    activation="tanh",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=columns,bias=column,container=layers",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: loops over samples with column vectors and accumulates the per-sample gradients",
)
