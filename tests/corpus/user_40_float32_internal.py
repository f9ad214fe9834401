import numpy as np


def backprop(params, x, y):
    # work in float32 like the GPU would
    f32 = np.float32
    x, y = x.astype(f32), y.astype(f32)
    W1, b1 = params[0]["W"].astype(f32), params[0]["b"].astype(f32)
    W2, b2 = params[1]["W"].astype(f32), params[1]["b"].astype(f32)

    h = np.tanh(x @ W1.T + b1)
    out = h @ W2.T + b2
    loss = 0.5 * np.sum((out - y) ** 2)

    g_out = out - y
    g_h = (g_out @ W2) * (1 - h * h)
    grads = [
        {"W": g_h.T @ x, "b": g_h.sum(0)},
        {"W": g_out.T @ h, "b": g_out.sum(0)},
    ]
    # caller wants float64 back
    grads = [{k: v.astype(np.float64) for k, v in g.items()} for g in grads]
    return float(loss), grads


CASE = dict(
    sizes=[3, 4, 2],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="outside",
    mistake=None,
    note="the formulas are right but everything is computed in float32 and only cast back to float64 at the end",
)
