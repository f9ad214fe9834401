import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]
    n = x.shape[0]

    hidden = np.maximum(0, x @ W1 + b1)
    scores = hidden @ W2 + b2
    probs = softmax(scores)
    loss = -np.sum(y * np.log(probs)) / n  # average cross-entropy

    dscores = probs - y
    dW2 = hidden.T @ dscores
    db2 = dscores.sum(axis=0)
    dhidden = dscores @ W2.T
    dhidden[hidden <= 0] = 0
    dW1 = x.T @ dhidden
    db1 = dhidden.sum(axis=0)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[4, 5, 3],
    activation="relu",
    output_activation="softmax",
    loss="cross_entropy",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="mistake",
    mistake=("sum-for-mean", 2),
    note="the loss is averaged over the batch but dscores = probs - y is never divided by n",
)
