"""Assertions in ``numpy.testing``'s idiom: an AssertionError whose message is
the diagnosis (which sides, which layer, which parameter, by how much)."""

import numpy as np

from .compare import compare, rounding_scale
from .tolerances import tolerance


def assert_grads_close(net, x, y, expected, actual, names=("expected", "actual")):
    """Assert two ``(loss, grads)`` results for ``net`` on x, y agree within the
    table's parity tolerance for the net's dtype, entry by entry relative to
    the size of the terms each entry sums (``compare.rounding_scale``).
    Returns the comparison rows."""
    tol = tolerance("parity", net.dtype)
    rows = compare(expected, actual, rounding_scale(net, x, y), net.dtype)
    failures = [
        f"  {_describe(row)}: max abs err {row.max_abs:.3e}, max rel err {row.max_rel:.3e}, "
        f"err / rounding scale {row.max_scaled:.3e} (tolerance {tol.rtol:.1e})"
        for row in rows
        if not row.ok
    ]
    assert not failures, f"{names[0]} and {names[1]} disagree ({net.dtype.name}):\n" + "\n".join(failures)
    return rows


def _describe(row):
    if row.key == "loss":
        return "loss"
    layer, name = row.key
    return f"layer {layer + 1} {name} ({row.name})"


def assert_ensemble_grads_close(
    ens, x, y, expected, actual, names=("expected", "actual"), scale=None, nets=None
):
    """``assert_grads_close`` for every net of ``ens`` (a ``manual.Ensemble``) at once:
    two ``(losses (N,), grads nets first)`` results, each net's entries judged
    against its own rounding scale (``scale``: ``rounding_scale(ens, x, y)``,
    computed if not given); the message names the worst net. ``nets``: the
    indices of the nets to compare (default: all)."""
    scale = rounding_scale(ens, x, y) if scale is None else scale
    nets = np.arange(ens.n_nets) if nets is None else np.asarray(nets)
    expected, actual, scale = (_take(r, nets) for r in (expected, actual, scale))
    tol = tolerance("parity", ens.dtype)
    failures = [
        f"  {_describe(row)}: worst at net {nets[_worst_net(row.key, expected, actual, scale)]}, "
        f"err / rounding scale {row.max_scaled:.3e} (tolerance {tol.rtol:.1e}), max abs err {row.max_abs:.3e}"
        for row in compare(expected, actual, scale, ens.dtype)
        if not row.ok
    ]
    assert not failures, (
        f"{names[0]} and {names[1]} disagree ({ens.dtype.name}, {len(nets)} of {ens.n_nets} nets compared):\n"
        + "\n".join(failures)
    )


def _take(result, nets):
    losses, grads = result
    return np.asarray(losses)[nets], [{k: np.asarray(v)[nets] for k, v in layer.items()} for layer in grads]


def _worst_net(key, expected, actual, scale):
    def pick(result):
        return result[0] if key == "loss" else result[1][key[0]][key[1]]

    e, a, s = (np.asarray(pick(r), np.float64) for r in (expected, actual, scale))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.nan_to_num(np.abs(a - e) / s, nan=np.inf).reshape(len(e), -1)
    return int(ratio.max(axis=1).argmax())
