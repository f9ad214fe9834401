import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]
    print("=" * 60)
    print("x =", x)
    print("y =", y)

    z1 = x @ W1 + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2 + b2
    a2 = sigmoid(z2)
    print("z1 =", z1, "\na1 =", a1, "\nz2 =", z2, "\na2 =", a2)
    loss = 0.5 * np.sum((a2 - y) ** 2)
    print("loss =", loss)

    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = (d2 @ W2.T) * a1 * (1 - a1)
    for n in range(x.shape[0]):
        print(f"sample {n}: delta2 = {d2[n]}, delta1 = {d1[n]}")

    grads = [{"W": x.T @ d1, "b": d1.sum(0)}, {"W": a1.T @ d2, "b": d2.sum(0)}]
    for l, g in enumerate(grads, 1):
        for name, arr in g.items():
            for idx, v in np.ndenumerate(arr):
                print(f"d{name}{l}{list(idx)} = {v:.6f}")
    print("=" * 60)
    return loss, grads


CASE = dict(
    sizes=[3, 4, 2],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="hostile",
    mistake=None,
    note="correct gradients, but prints every intermediate array and every gradient entry on each call",
)
