import numpy as np


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]  # b1 is (1, 4)
    W2, b2 = params[1]["W"], params[1]["b"]  # b2 is (1, 1)

    a1 = np.tanh(np.dot(x, W1) + b1)
    a2 = 1 / (1 + np.exp(-(np.dot(a1, W2) + b2)))
    loss = 0.5 * np.sum(np.square(a2 - y))

    # output error
    err2 = a2 - y
    # hidden error
    err1 = np.dot(err2, W2.T) * (1 - a1**2)

    grads = [
        {"W": np.dot(x.T, err1), "b": np.sum(err1, axis=0, keepdims=True)},
        {"W": np.dot(a1.T, err2), "b": np.sum(err2, axis=0, keepdims=True)},
    ]
    return loss, grads


CASE = dict(
    sizes=[3, 4, 1],
    activation="tanh",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=row,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("output-derivative-dropped", 2),
    note="output delta is just a2 - y, the sigmoid output's derivative is never applied (mse, not bce)",
)
