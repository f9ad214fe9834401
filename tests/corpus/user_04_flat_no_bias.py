import numpy as np


def backprop(params, x, y):
    # no biases in this model, params = [W1, W2]
    w1, w2 = params
    h = 1 / (1 + np.exp(-np.dot(x, w1)))
    o = 1 / (1 + np.exp(-np.dot(h, w2)))

    e = o - y
    loss = 0.5 * np.sum(e * e)

    d_o = e * o * (1 - o)
    d_h = np.dot(d_o, w2.T) * h * (1 - h)
    return loss, [np.dot(x.T, d_h), np.dot(h.T, d_o)]


CASE = dict(
    sizes=[2, 3, 2],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=False,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=flat",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: bias-free net, params and grads as a flat list [W1, W2]",
)
