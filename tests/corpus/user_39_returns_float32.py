import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def backprop(params, x, y):
    n = x.shape[0]
    z1 = x @ params["W1"] + params["b1"]
    a1 = np.maximum(z1, 0)
    p = softmax(a1 @ params["W2"] + params["b2"])
    loss = -np.sum(y * np.log(p)) / n

    dz2 = (p - y) / n
    dz1 = (dz2 @ params["W2"].T) * (z1 > 0)
    grads = {
        "W1": x.T @ dz1,
        "b1": dz1.sum(0),
        "W2": a1.T @ dz2,
        "b2": dz2.sum(0),
    }
    # float32 is enough for gradients and halves the memory
    return float(loss), {k: v.astype(np.float32) for k, v in grads.items()}


CASE = dict(
    sizes=[3, 4, 2],
    activation="relu",
    output_activation="softmax",
    loss="cross_entropy",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=dict",
    kind="backprop",
    expect="outside",
    mistake=None,
    note="gradients are computed correctly in float64 but returned cast to float32 for a float64 net",
)
