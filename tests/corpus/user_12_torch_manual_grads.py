import torch


def backprop(params, x, y):
    # converted to tensors with requires_grad=True because I want to compare
    # with autograd later; the backward pass below is done by hand
    P = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    X, Y = torch.tensor(x), torch.tensor(y)

    z1 = X @ P["W1"] + P["b1"]
    a1 = torch.tanh(z1)
    out = a1 @ P["W2"] + P["b2"]
    loss = 0.5 * ((out - Y) ** 2).sum()

    d2 = out - Y
    d1 = (d2 @ P["W2"].T) * (1 - a1**2)
    grads = {
        "W1": X.T @ d1,
        "b1": d1.sum(0),
        "W2": a1.T @ d2,
        "b2": d2.sum(0),
    }
    return loss, grads


CASE = dict(
    sizes=[3, 4, 2],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=dict",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: manual torch backward, but the returned loss and grads still require grad (no no_grad)",
)
