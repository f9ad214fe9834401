"""The comparison machinery itself, checked by hand: a tolerance that could
not fail would make every parity test meaningless."""

import numpy as np
import pytest

import manual
from crosscheck.compare import compare, max_errors, rounding_scale
from crosscheck.tolerances import TOLERANCES, tolerance


def test_every_tolerance_has_a_reason_and_float64_parity_is_tight():
    for key, tol in TOLERANCES.items():
        assert len(tol.reason) > 20, key
    assert 1e-13 <= tolerance("parity", np.float64).rtol <= 1e-12
    eps32 = float(np.finfo(np.float32).eps)
    f32 = tolerance("parity", np.float32).rtol
    f64 = tolerance("parity", np.float64).rtol
    # the same derivation, scaled by machine epsilon
    assert f32 / f64 == pytest.approx(eps32 / float(np.finfo(np.float64).eps))


def test_max_errors_by_hand():
    assert max_errors([1.0, 2.5], [1.0, 2.0]) == (0.5, 0.25)  # 0.5 over the largest |expected| = 2
    assert max_errors([0.0], [0.0]) == (0.0, 0.0)
    assert max_errors([1e-3], [0.0])[1] == float("inf")


def test_rounding_scale_of_a_linear_layer_by_hand():
    # one identity layer, mse sum: z = x W + b, L = 1/2 sum (z - y)^2
    W, b = np.array([[2.0], [-3.0]]), np.array([0.5])
    x, y = np.array([[1.0, 1.0]]), np.array([[4.0]])
    net = manual.MLP.from_params([{"W": W, "b": b}], activation="identity")
    loss_scale, (g,) = rounding_scale(net, x, y)
    z = 1 * 2 - 3 + 0.5  # -0.5
    zmag = 1 * 2 + 1 * 3 + 0.5  # 5.5: the terms of z, without cancellation
    amag = abs(z) + zmag  # a = z, and z carries rounding of size zmag
    delta_mag = amag + abs(4.0)  # a - y
    assert g["W"].ravel() == pytest.approx([1 * delta_mag, 1 * delta_mag])
    assert g["b"].item() == pytest.approx(delta_mag)
    assert loss_scale == pytest.approx(0.5 * delta_mag**2)


def _result(scale=1.0):
    return 0.75, [{"W": np.array([[1.0, -2.0]]) * scale, "b": np.array([0.5]) * scale}]


def test_compare_passes_identical_and_names_what_differs():
    ones = (1.0, [{"W": np.ones((1, 2)), "b": np.ones(1)}])
    rows = compare(_result(), _result(), ones, np.float64)
    assert [r.name for r in rows] == ["loss", "W1", "b1"] and all(r.ok and r.max_scaled == 0 for r in rows)
    off = _result()
    off[1][0]["W"][0, 1] += 1e-11  # far above 1.6e-13 of a scale of 1
    rows = compare(_result(), off, ones, np.float64)
    assert [r.name for r in rows if not r.ok] == ["W1"]
    bad = next(r for r in rows if r.name == "W1")
    assert bad.max_abs == pytest.approx(1e-11, rel=1e-3) and bad.max_rel == pytest.approx(0.5e-11, rel=1e-3)


def test_compare_judges_against_the_rounding_scale_not_the_value():
    # an entry of 1e-12 left by cancellation of terms of size 1: 1e-16 apart is rounding
    e = (0.0, [{"W": np.array([[1e-12]])}])
    a = (0.0, [{"W": np.array([[1e-12 + 1e-16]])}])
    assert all(r.ok for r in compare(e, a, (1.0, [{"W": np.array([[1.0]])}]), np.float64))
    # with terms no larger than the entry itself, the same gap is a disagreement
    assert not all(r.ok for r in compare(e, a, (1.0, [{"W": np.array([[1e-12]])}]), np.float64))


def test_compare_forgives_flush_to_zero_only_below_the_normals():
    tiny = float(np.finfo(np.float32).tiny)
    zero = (0.0, [{"W": np.zeros((1, 1))}])
    scale = (1.0, [{"W": np.full((1, 1), tiny)}])
    assert compare(zero, (0.0, [{"W": np.full((1, 1), 3 * tiny)}]), scale, np.float32)[1].ok
    assert not compare(zero, (0.0, [{"W": np.full((1, 1), 1e-30)}]), scale, np.float32)[1].ok
