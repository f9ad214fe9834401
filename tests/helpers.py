"""Test helpers: data for a net, and gradient comparisons whose failures say
which backends, which layer, which parameter, and by how much."""

import numpy as np

from manual.compare import compare, rounding_scale
from manual.tolerances import tolerance


def make_data(net, batch, seed=0, scale=1.0):
    """x ``(batch, n_in)`` ~ N(0, scale**2) and targets the net's loss accepts."""
    rng = np.random.default_rng(seed)
    n_in, n_out = net.sizes[0], net.sizes[-1]
    x = (scale * rng.standard_normal((batch, n_in))).astype(net.dtype)
    if net.loss_name == "cross_entropy":
        y = np.eye(n_out)[rng.integers(0, n_out, batch)]
    elif net.loss_name == "bce":
        y = rng.integers(0, 2, (batch, n_out)).astype(float)
    else:
        y = rng.random((batch, n_out))
    return x, y.astype(net.dtype)


def assert_grads_close(net, x, y, expected, actual, names=("expected", "actual")):
    """Assert the loss and every gradient agree within the table's parity
    tolerance for the net's dtype, entry by entry relative to the size of the
    terms each entry sums (``manual.compare.rounding_scale``).

    The message names the two sides, the layer and parameter (W2 = layer 2's
    W), and the max absolute and relative error of every failing one.
    """
    tol = tolerance("parity", net.dtype)
    rows = compare(expected, actual, rounding_scale(net, x, y), net.dtype)
    failures = [
        f"  {_describe(row.name)}: max abs err {row.max_abs:.3e}, max rel err {row.max_rel:.3e}, "
        f"err / rounding scale {row.max_scaled:.3e} (tolerance {tol.rtol:.1e})"
        for row in rows
        if not row.ok
    ]
    assert not failures, (
        f"{names[0]} and {names[1]} disagree ({net.dtype.name}):\n" + "\n".join(failures)
    )
    return rows


def _describe(name):
    if name == "loss":
        return "loss"
    return f"layer {name[1:]} {name[0]} ({name})"
