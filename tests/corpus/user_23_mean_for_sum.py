import numpy as np


def backprop(params, x, y):
    # Coursera style: X is (n_x, m), Y is (1, m)
    m = x.shape[1]
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]

    Z1 = W1 @ x + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1 / (1 + np.exp(-Z2))

    cost = -np.sum(y * np.log(A2) + (1 - y) * np.log(1 - A2))

    dZ2 = A2 - y
    dW2 = (1 / m) * dZ2 @ A1.T
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = (W2.T @ dZ2) * (1 - np.power(A1, 2))
    dW1 = (1 / m) * dZ1 @ x.T
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)

    return cost, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


CASE = dict(
    sizes=[2, 3, 1],
    activation="tanh",
    output_activation="sigmoid",
    loss="bce",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=columns,bias=column,container=dict",
    kind="backprop",
    expect="mistake",
    mistake=("mean-for-sum", 2),
    note="the cost is summed over the batch but every gradient carries the 1/m from the averaged version",
)
