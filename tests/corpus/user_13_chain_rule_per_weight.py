import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(params, x, y):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    z1 = x @ W1 + b1
    h = sigmoid(z1)
    z2 = h @ W2 + b2
    yhat = sigmoid(z2)
    loss = 0.5 * np.sum((yhat - y) ** 2)

    # chain rule, written out for every parameter
    dL_dyhat = yhat - y
    dyhat_dz2 = yhat * (1 - yhat)
    dh_dz1 = h * (1 - h)

    # dL/dW2 = dL/dyhat * dyhat/dz2 * dz2/dW2
    dL_dW2 = h.T @ (dL_dyhat * dyhat_dz2)
    dL_db2 = np.sum(dL_dyhat * dyhat_dz2, axis=0)
    # dL/dW1 = dL/dyhat * dz2/dh * dh/dz1 * dz1/dW1
    dL_dW1 = x.T @ ((dL_dyhat @ W2.T) * dh_dz1)
    dL_db1 = np.sum((dL_dyhat @ W2.T) * dh_dz1, axis=0)

    return loss, {"W1": dL_dW1, "b1": dL_db1, "W2": dL_dW2, "b2": dL_db2}


CASE = dict(
    sizes=[2, 2, 1],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=dict",
    kind="backprop",
    expect="mistake",
    mistake=("derivative-dropped-going-down", 2),
    note="the chain-rule expressions for W1 and b1 leave out dyhat/dz2, so the output sigmoid's derivative is missing below layer 2",
)
