# same layout as torch.nn.Linear: weight is (out_features, in_features)
import numpy as np


def backprop(params, x, y):
    l1, l2 = params
    h = np.tanh(x @ l1["W"].T + l1["b"])
    logits = h @ l2["W"].T + l2["b"]

    # BCE with logits, the stable way: log(1 + e^-|z|) + max(z, 0) - y*z
    per_elem = np.log1p(np.exp(-np.abs(logits))) + np.maximum(logits, 0) - y * logits
    loss = per_elem.mean()

    p = 0.5 * (1 + np.tanh(0.5 * logits))  # sigmoid that can't overflow
    g = (p - y) / y.size  # mean over batch and outputs

    dW2 = g.T @ h
    db2 = g.sum(0)
    gh = (g @ l2["W"]) * (1 - h**2)
    dW1 = gh.T @ x
    db1 = gh.sum(0)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


CASE = dict(
    sizes=[3, 4, 2],
    activation="tanh",
    output_activation="sigmoid",
    loss="bce",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: nn.Linear weight layout, bce loss computed from the logits with log1p",
)
