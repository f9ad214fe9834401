import numpy as np


def tanh_prime(z):
    return 1.0 - np.tanh(z) ** 2


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]
    m = x.shape[1]

    A1 = np.tanh(W1 @ x + b1)
    A2 = W2 @ A1 + b2
    loss = 0.5 * np.sum((A2 - y) ** 2)

    dZ2 = A2 - y
    dZ1 = (W2.T @ dZ2) * tanh_prime(A1)

    dW2 = dZ2 @ A1.T
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dW1 = dZ1 @ x.T
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[2, 3, 2],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=columns,bias=column,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("derivative-of-output", 1),
    note="tanh_prime takes z but is called with A1 = tanh(z1), so layer 1 uses 1 - tanh(tanh(z1))**2",
)
