"""What check_layer draws can see the mistakes it is meant to: an upstream gradient that no
user's seed reproduces, labels and indices that are not the row index, masks that hide
something, no symmetric square array (a transposition would pass unseen); and where the
user's own inputs make a gradient symmetric, a note says so."""

import cs231n_student as student
import numpy as np
import pytest

from crosscheck import check_layer, layer_kinds

from conftest import require


@pytest.fixture(scope="module", autouse=True)
def frameworks():
    require("torch", "jax")


def _dw_transposed(dout, cache):
    dx, dw, db = student.affine_backward(dout, cache)
    return dx, dw.T, db


@pytest.mark.parametrize("seed", range(4))
def test_a_transposed_dw_fails_whatever_seed_drew_the_users_inputs(seed):
    # a student who draws x from default_rng(seed) must not get the upstream gradient from it too:
    # dout == x makes dw = xᵀx symmetric, and dwᵀ would pass
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal(3)
    seen = {}

    def spy(dout, cache):
        seen["dout"] = dout.copy()
        return _dw_transposed(dout, cache)

    report = check_layer(student.affine_forward, spy, "affine", x, w, b)
    assert not report.ok, report.text()
    assert not np.allclose(seen["dout"], x)


def test_a_gradient_the_users_inputs_make_symmetric_is_noted():
    # given dout = x, the true dw = xᵀx is its own transpose: the check cannot see dwᵀ, and says so
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal(3)
    for backward in (student.affine_backward, _dw_transposed):
        report = check_layer(student.affine_forward, backward, "affine", x, w, b, dout=x)
        assert report.ok
        assert any("dw" in n and "symmetric" in n and "transposed" in n for n in report.notes), report.notes
    # an ordinary dout: no such note
    report = check_layer(student.affine_forward, student.affine_backward, "affine", x, w, b)
    assert not any("symmetric" in n for n in report.notes), report.notes


def _index_patterns(arr):
    """The row index along each axis of ``arr``, broadcast to its shape."""
    return [np.broadcast_to(np.arange(n).reshape([-1 if i == a else 1 for i in range(arr.ndim)]), arr.shape)
            for a, n in enumerate(arr.shape)]  # fmt: skip


KINDS = list(layer_kinds.KINDS)


def _drawn(kind):
    k = layer_kinds.KINDS[kind]
    return dict(zip(k.arrays, k.draw(np.random.default_rng(0), np.float64)))


@pytest.mark.parametrize("kind", KINDS)
def test_drawn_labels_and_indices_are_not_the_row_index_and_repeat(kind):
    for name, a in _drawn(kind).items():
        if a is None or a.ndim == 0 or a.dtype.kind not in "iu":
            continue
        for pattern in _index_patterns(a):
            assert np.any(a != pattern), f"{kind}'s {name} is the index along an axis: {a}"
        values = np.unique(a)
        assert 1 < len(values) < a.size, f"{kind}'s {name}: no value repeats, or all are one: {a}"


@pytest.mark.parametrize("kind", KINDS)
def test_drawn_masks_hide_some_entries_and_keep_others(kind):
    for name, a in _drawn(kind).items():
        if a is not None and a.dtype == bool:
            assert a.any() and not a.all(), f"{kind}'s {name} is all {bool(a.flat[0])}"


@pytest.mark.parametrize("kind", KINDS)
def test_no_drawn_square_array_is_symmetric(kind):
    for name, a in _drawn(kind).items():
        if a is not None and a.dtype.kind == "f" and a.ndim >= 2 and a.shape[-1] == a.shape[-2] > 1:
            assert not np.allclose(a, np.swapaxes(a, -1, -2)), f"{kind}'s {name} is symmetric"


def _square(v):
    return np.ndim(v) >= 2 and np.shape(v)[-1] == np.shape(v)[-2] > 1


# the kinds with a gradient of two equal last axes (conv's dw, the recurrences' dWh): its input's shape
SQUARE = [k for k in KINDS if not layer_kinds.KINDS[k].loss and any(
    a is not None and a.dtype.kind == "f" and _square(a) for a in _drawn(k).values())]  # fmt: skip


@pytest.mark.parametrize("kind", SQUARE)
def test_a_square_gradient_transposed_is_caught_on_drawn_inputs(kind):
    forward, backward = student.FUNCTIONS[kind]
    hit = []

    def transposed(*args):
        grads = backward(*args)
        many = isinstance(grads, tuple)
        out = []
        for g in grads if many else (grads,):
            if _square(g):
                hit.append(g.shape)
                g = np.swapaxes(g, -1, -2)
            out.append(g)
        return tuple(out) if many else out[0]

    report = check_layer(forward, transposed, kind)
    assert hit
    assert not report.ok, report.text()


@pytest.mark.parametrize("kind", ["softmax_loss", "svm_loss"])
def test_a_loss_that_takes_the_row_index_for_the_label_fails(kind):
    # p[i, i] (or x.diagonal()) where p[i, y[i]] is meant: right only where y[i] == i
    correct = student.FUNCTIONS[kind][0]

    def rowwise(x, y):
        return correct(x, np.arange(len(y)) % x.shape[1])

    report = check_layer(rowwise, None, kind)
    assert not report.ok, report.text()
