import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]
    m = x.shape[1]

    A1 = np.tanh(W1 @ x + b1)
    A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
    loss = 0.5 * np.sum((A2 - y) ** 2)

    dZ2 = A2 - y
    dW2 = dZ2 @ A1.T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (1 - A1**2)
    dW1 = dZ1 @ x.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


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
    expect="outside",
    mistake=None,
    note="two catalogue mistakes at once: output-derivative-dropped (no sigmoid derivative) and mean-for-sum (grads / m, loss summed)",
)
