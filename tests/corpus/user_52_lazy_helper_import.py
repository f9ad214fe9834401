import numpy as np


def backprop(params, x, y):
    # helpers live next to this file
    import corpus_helper_activations as act

    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    a1 = act.sigmoid(x @ W1 + b1)
    a2 = act.sigmoid(a1 @ W2 + b2)
    loss = 0.5 * np.sum((a2 - y) ** 2)

    d2 = (a2 - y) * act.sigmoid_prime_from_output(a2)
    d1 = (d2 @ W2.T) * act.sigmoid_prime_from_output(a1)
    return loss, {"W1": x.T @ d1, "b1": d1.sum(0), "W2": a1.T @ d2, "b2": d2.sum(0)}


CASE = dict(
    sizes=[2, 3, 2],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=dict",
    kind="backprop",
    expect="hostile",
    mistake=None,
    note="imports the sibling module corpus_helper_activations lazily inside backprop; correct if that import resolves, ImportError otherwise",
)
