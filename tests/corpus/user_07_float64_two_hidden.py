import numpy as np


def backprop(params, x, y):
    # everything in float64 so gradient checking works
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    Ws = [np.asarray(p["W"], dtype=np.float64) for p in params]
    bs = [np.asarray(p["b"], dtype=np.float64) for p in params]

    acts = [x]
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = acts[-1] @ W + b
        acts.append(z if i == len(Ws) - 1 else np.tanh(z))

    diff = acts[-1] - y
    loss = 0.5 * np.sum(diff**2)

    grads = [None] * len(Ws)
    delta = diff  # identity output
    for i in reversed(range(len(Ws))):
        grads[i] = {"W": acts[i].T @ delta, "b": delta.sum(axis=0)}
        if i > 0:
            delta = (delta @ Ws[i].T) * (1.0 - acts[i] ** 2)
    return float(loss), grads


CASE = dict(
    sizes=[2, 4, 3, 1],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: generic layer loop with two hidden layers, everything cast to float64",
)
