import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def dsigmoid(s):
    return s * (1 - s)


def backprop(params, x, y):
    W1, b1, W2, b2 = params
    z1 = x @ W1 + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2 + b2
    a2 = sigmoid(z2)
    loss = 0.5 * np.sum((a2 - y) ** 2)

    delta2 = (a2 - y) * dsigmoid(a2)
    delta1 = (delta2 @ W2.T) * dsigmoid(z1)

    return loss, [x.T @ delta1, delta1.sum(axis=0), a1.T @ delta2, delta2.sum(axis=0)]


CASE = dict(
    sizes=[3, 4, 2],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=flat",
    kind="backprop",
    expect="mistake",
    mistake=("derivative-formula-fed-z", 1),
    note="dsigmoid expects the activation s but layer 1 passes z1, giving z1*(1-z1)",
)
