import numpy as np


def log_softmax(z):
    # subtract the max so exp never overflows
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def backprop(params, x, y):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = x.shape[0]

    h_pre = x.dot(W1) + b1
    h = np.maximum(0, h_pre)
    logits = h.dot(W2) + b2
    logp = log_softmax(logits)
    loss = -np.sum(y * logp) / N

    probs = np.exp(logp)
    dlogits = (probs - y) / N  # softmax + CE, averaged over the batch

    grads = {}
    grads["W2"] = h.T.dot(dlogits)
    grads["b2"] = np.sum(dlogits, axis=0)
    dh = dlogits.dot(W2.T)
    dh[h_pre <= 0] = 0  # relu backward
    grads["W1"] = x.T.dot(dh)
    grads["b1"] = np.sum(dh, axis=0)
    return loss, grads


CASE = dict(
    sizes=[4, 5, 3],
    activation="relu",
    output_activation="softmax",
    loss="cross_entropy",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=dict",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: dict container, cross-entropy computed from a numerically stable log-softmax",
)
