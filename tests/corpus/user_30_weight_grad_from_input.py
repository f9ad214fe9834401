import numpy as np


def softmax(z):
    ez = np.exp(z - z.max(axis=-1, keepdims=True))
    return ez / ez.sum(axis=-1, keepdims=True)


def backprop(params, x, y):
    z1 = x @ params["W1"] + params["b1"]
    a1 = 1 / (1 + np.exp(-z1))
    p = softmax(a1 @ params["W2"] + params["b2"])
    loss = -np.sum(y * np.log(p))

    d2 = p - y
    d1 = (d2 @ params["W2"].T) * a1 * (1 - a1)

    return loss, {
        "W1": x.T @ d1,
        "b1": d1.sum(axis=0),
        "W2": x.T @ d2,
        "b2": d2.sum(axis=0),
    }


CASE = dict(
    sizes=[2, 2, 3],
    activation="sigmoid",
    output_activation="softmax",
    loss="cross_entropy",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=dict",
    kind="backprop",
    expect="mistake",
    mistake=("weight-grad-from-input", 2),
    note="dW2 uses the network input x instead of the hidden activations a1 (same width, so no shape error)",
)
