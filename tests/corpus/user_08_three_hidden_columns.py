import numpy as np

ALPHA = 0.01


def leaky(z):
    return np.where(z > 0, z, ALPHA * z)


def leaky_grad(z):
    return np.where(z > 0, 1.0, ALPHA)


def backprop(params, x, y):
    # columns = samples (Andrew Ng notation), W[l] is (n_l, n_{l-1}), b[l] is (n_l, 1)
    L = len(params)
    A = {0: x}
    Z = {}
    for l in range(1, L + 1):
        W, b = params[l - 1]["W"], params[l - 1]["b"]
        Z[l] = W @ A[l - 1] + b
        A[l] = Z[l] if l == L else leaky(Z[l])

    loss = 0.5 * np.sum((A[L] - y) ** 2)

    grads = [dict() for _ in range(L)]
    dZ = A[L] - y
    for l in range(L, 0, -1):
        grads[l - 1]["W"] = dZ @ A[l - 1].T
        grads[l - 1]["b"] = np.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            dA = params[l - 1]["W"].T @ dZ
            dZ = dA * leaky_grad(Z[l - 1])
    return loss, grads


CASE = dict(
    sizes=[3, 4, 4, 3, 2],
    activation="leaky_relu",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=columns,bias=column,container=layers",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: 3 hidden leaky-relu layers, samples in columns, dicts of Z/A per layer",
)
