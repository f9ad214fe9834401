"""Assertions in ``numpy.testing``'s idiom: an AssertionError whose message is
the diagnosis (which sides, which layer, which parameter, by how much)."""

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
        f"  {_describe(row.name)}: max abs err {row.max_abs:.3e}, max rel err {row.max_rel:.3e}, "
        f"err / rounding scale {row.max_scaled:.3e} (tolerance {tol.rtol:.1e})"
        for row in rows
        if not row.ok
    ]
    assert not failures, f"{names[0]} and {names[1]} disagree ({net.dtype.name}):\n" + "\n".join(failures)
    return rows


def _describe(name):
    return "loss" if name == "loss" else f"layer {name[1:]} {name[0]} ({name})"
