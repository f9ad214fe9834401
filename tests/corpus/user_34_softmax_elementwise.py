import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    h = np.tanh(x @ W1 + b1)
    s = softmax(h @ W2 + b2)
    loss = 0.5 * np.sum((s - y) ** 2)  # squared error on the probabilities

    # softmax derivative, same as sigmoid: s * (1 - s)
    delta2 = (s - y) * s * (1 - s)
    delta1 = (delta2 @ W2.T) * (1 - h**2)

    return loss, [
        {"W": x.T @ delta1, "b": delta1.sum(axis=0)},
        {"W": h.T @ delta2, "b": delta2.sum(axis=0)},
    ]


CASE = dict(
    sizes=[3, 4, 3],
    activation="tanh",
    output_activation="softmax",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("softmax-elementwise", 2),
    note="mse on a softmax output, with the softmax Jacobian replaced by the elementwise s*(1-s)",
)
