import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]

    z1 = np.dot(x, W1) + b1
    a1 = np.maximum(z1, 0)
    a2 = softmax(np.dot(a1, W2) + b2)
    loss = -np.sum(y * np.log(a2))

    delta2 = a2 - y
    delta1 = np.dot(delta2, W2.T) * (z1 > 0)

    dW2 = np.dot(a1.T, delta2)
    db2 = np.sum(delta2, axis=0)
    dW1 = np.dot(x.T, delta1)
    db1 = delta1[0]  # (n_hidden,)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[3, 4, 2],
    activation="relu",
    output_activation="softmax",
    loss="cross_entropy",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("bias-grad-one-sample", 1),
    note="db1 takes delta1[0], the first sample's delta, instead of summing over the batch",
)
