"""Checking a CS231n layer (crosscheck.check_layer): a student's layers written here
(tests/cs231n_student.py) in two styles, correct (never flagged, float64 and
float32), each mistake of crosscheck.layer_mistakes planted (named, and only it);
the harmless batchnorm variant not flagged; functions that raise, exit, hang,
print, return NaN, tensors or the wrong things; the engine's own layers wrapped
in CS231n's signatures; the pytest assertion and the command line."""

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import cs231n_student as student
import numpy as np
import pytest

import manual.layers as L
from crosscheck import assert_layer_matches, check_layer, layer_kinds, layer_mistakes
from crosscheck.cli import main
from crosscheck.errors import UserCodeError
from crosscheck.layer_check import LayerCallError, forward_name
from manual.losses import HEADS

from conftest import require

KINDS = list(student.FUNCTIONS)


@pytest.fixture(scope="module", autouse=True)
def frameworks():
    require("torch", "jax")


def drawn(kind, dtype=np.float64, seed=0):
    """The inputs the check draws for ``kind``, in ``dtype``, with the kind's default config."""
    k = layer_kinds.KINDS[kind]
    arrays = k.draw(np.random.default_rng(seed), dtype)
    return arrays + ((dict(k.defaults),) if k.param else ())


# ------------------------------------------------------------------ correct layers


@pytest.mark.parametrize("style", ["vectorized", "loops"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_correct_layer_is_not_flagged(kind, style):
    forward, backward = student.FUNCTIONS[kind] if style == "vectorized" else student.second_style(kind)
    report = check_layer(
        forward, backward, kind, **({} if style == "vectorized" else student.second_keywords(kind))
    )
    assert report.ok, report.text()
    assert report.findings == [] and report.explained_by == []
    assert report.diagnosis.unseen == []  # the drawn inputs show every mistake of the catalogue
    # no NOTE: the drawn inputs have no kinks, so central differences agree on their own
    assert all(r.verdict == "PASS" for r in report.rows), report.text()
    expected = (
        ["torch", "finite differences"] if kind == "svm_loss" else ["torch", "jax", "finite differences"]
    )
    assert report.truths == expected
    k = layer_kinds.KINDS[kind]
    first = "loss" if k.loss else "out" if len(k.outputs) == 1 else k.outputs[0]
    assert report.rows[0].name == first  # the forward's output first, then the gradients


@pytest.mark.parametrize("kind", KINDS)
def test_a_correct_layer_in_float32_is_not_flagged(kind):
    forward, backward = student.FUNCTIONS[kind]
    report = check_layer(forward, backward, kind, *drawn(kind, np.float32))
    assert report.ok, report.text()
    assert report.dtype == np.float32


def _float32_backward(dout, cache):
    return tuple(g.astype(np.float32) for g in student.affine_backward(dout, cache))


def test_float32_gradients_are_told_the_cure_that_works_for_a_layer():
    report = check_layer(student.affine_forward, _float32_backward, "affine")
    assert not report.ok and report.diagnosis.verdict == "precision"
    text = report.text()
    assert "the layer is float64" in text and "dtype=np.float32" in text and "net" not in text, text

    # float32 gradients with a mistake (db averaged): the precision they are judged to is the layer's
    def wrong(dout, cache):
        dx, dw, db = _float32_backward(dout, cache)
        return dx, dw, db / len(dout)

    report = check_layer(student.affine_forward, wrong, "affine")
    assert report.explained_by == ["db-mean"], report.text()
    assert "came as float32: judged to float32's precision, the layer being float64" in report.text()
    assert "net" not in report.text(), report.text()
    # following the advice: the inputs drawn in float32, judged in float32
    report = check_layer(student.affine_forward, _float32_backward, "affine", dtype=np.float32)
    assert report.ok and report.dtype == np.float32 and report.drawn, report.text()


def test_dtype_is_for_drawn_inputs():
    x, w, b = drawn("affine")
    with pytest.raises(TypeError, match="dtype=float32 draws the inputs in float32; yours are float64"):
        check_layer(student.affine_forward, student.affine_backward, "affine", x, w, b, dtype=np.float32)
    with pytest.raises(ValueError, match="dtype: expected float32 or float64, got float16"):
        check_layer(student.affine_forward, student.affine_backward, "affine", dtype=np.float16)


def test_batchnorm_in_test_mode_and_the_alt_form():
    forward, backward = student.FUNCTIONS["batchnorm"]
    bn_param = {"mode": "test", "eps": 1e-3, "running_mean": np.full(4, 0.5), "running_var": np.full(4, 2.0)}
    x, gamma, beta, _ = drawn("batchnorm")
    assert check_layer(forward, backward, "batchnorm", x, gamma, beta, bn_param).ok
    assert check_layer(forward, student.batchnorm_backward_alt, "batchnorm_alt").ok
    # the test-mode gradient is not the train-mode one: a train-mode backward in test mode fails
    report = check_layer(forward, student.batchnorm_backward_alt, "batchnorm", x, gamma, beta, bn_param)
    assert not report.ok


def test_dropout_in_test_mode_and_other_keep_probabilities():
    forward, backward = student.FUNCTIONS["dropout"]
    assert check_layer(forward, backward, "dropout", mode="test", p=0.7, seed=1).ok
    for p in (0.3, 0.9):
        assert check_layer(forward, backward, "dropout", p=p, mode="train", seed=5).ok


def test_the_harmless_batchnorm_variant_is_not_flagged():
    """The dvar → dmean term is Σ (x − μ) = 0 times a number: leaving it out is exact."""
    report = check_layer(student.batchnorm_forward, student.batchnorm_backward_harmless, "batchnorm")
    assert report.ok, report.text()


# ------------------------------------------------------------------ the catalogue, planted


def expected_key(key):
    return key.removesuffix("+=")  # dW[x] += dout is dW[x] = dout: one entry names both


@pytest.mark.parametrize("kind, key", list(student.PLANTED), ids=[f"{k}-{m}" for k, m in student.PLANTED])
def test_a_planted_mistake_is_named(kind, key):
    forward, backward = student.planted(kind, key)
    report = check_layer(forward, backward, kind, *student.planted_inputs(kind, key))
    assert not report.ok
    assert report.explained_by == [expected_key(key)], report.text()
    entry = next(m for m in layer_mistakes.MISTAKES[kind] if m.key == expected_key(key))
    assert entry.text in report.text()
    # one mistake, computed in the student's own arithmetic: nothing is left beyond its rounding
    assert "a second, smaller difference" not in report.text(), report.text()


def test_every_catalogue_entry_is_planted():
    planted = {(k, expected_key(m)) for k, m in student.PLANTED}
    catalogue = {(k, m.key) for k in KINDS for m in layer_mistakes.MISTAKES[k]}
    assert catalogue == planted


def test_two_mistakes_at_once_are_not_named_as_one():
    """γ left out of dx and dγ, dβ swapped: each explains some arrays, neither all."""

    def backward(dout, cache):
        dx, dgamma, dbeta = student.planted("batchnorm", "bn-no-gamma")[1](dout, cache)
        return dx, dbeta, dgamma

    report = check_layer(student.batchnorm_forward, backward, "batchnorm")
    assert report.diagnosis.verdict == "unexplained" and report.explained_by == []
    assert "no single mistake of the catalogue gives these values" in report.text()


def test_a_mistake_is_not_named_where_it_would_change_a_right_array():
    """dx as the SVM's true-class margin makes it, the loss right: that mistake would change
    the loss too, so it is said, not named."""

    def svm(x, y):
        loss, dx = student.svm_loss(x, y)
        dx[np.arange(len(x)), y] -= 1 / len(x)
        return loss, dx

    report = check_layer(svm, None, "svm_loss")
    assert report.diagnosis.verdict == "unexplained" and report.explained_by == []
    assert (
        "the margin counted for the true class (its margin of 1 not set to 0) gives this dx, but would "
        "change loss too" in report.text()
    )


def test_the_svm_true_class_margin_in_the_loss_alone_is_named_apart_from_in_both():
    """Loops that count the true class's margin (exactly 1) in the loss but leave it out of dx: the
    loss is the truth's + 1 (the mean of 1 per sample), dx right. Named as that, not as the margin
    counted in both; a loss off by anything else, or a dx wrong as well, is not named as it."""
    x, y = drawn("svm_loss")
    truth, _ = student.svm_loss(x, y)  # the hand-vectorized loss: the hinge with j = y skipped
    report = check_layer(*student.planted("svm_loss", "svm-true-class-loss"), "svm_loss", x, y)
    assert report.explained_by == ["svm-true-class-loss"], report.text()
    assert f"yours {truth + 1:.10g}, the truth {truth:.10g}" in report.text()
    assert "counted in the loss" in report.text() and "dx agrees" in report.text()
    both = check_layer(*student.planted("svm_loss", "svm-true-class"), "svm_loss", x, y)
    assert both.explained_by == ["svm-true-class"], both.text()

    def offset(by, dx_factor=1.0, loss_factor=1.0):
        def svm(x, y):
            loss, dx = student.svm_loss(x, y)
            return loss * loss_factor + by, dx * dx_factor

        return svm

    for fn in (
        offset(1.001),  # not the margin of 1
        offset(0.5),
        offset(1.0, dx_factor=len(x)),  # dx not divided by N as well: two mistakes
        offset(len(x), loss_factor=len(x)),  # the loss summed as well (+N): two mistakes
    ):
        other = check_layer(fn, None, "svm_loss", x, y)
        assert not other.ok and "svm-true-class-loss" not in other.explained_by, other.text()
        assert "svm-true-class" not in other.explained_by, other.text()


def test_a_wrong_forward_is_said_first():
    """A forward with the unbiased variance: out differs; no backward mistake is blamed."""

    def forward(x, gamma, beta, bn_param):
        mu, var = x.mean(axis=0), x.var(axis=0, ddof=1)
        xhat = (x - mu) / np.sqrt(var + bn_param["eps"])
        return gamma * xhat + beta, (
            xhat,
            x - mu,
            var,
            np.sqrt(var + bn_param["eps"]),
            gamma,
            bn_param["eps"],
        )

    report = check_layer(forward, student.batchnorm_backward, "batchnorm")
    assert not report.ok and report.rows[0].name == "out" and not report.rows[0].ok
    assert report.findings[0].startswith("out differs") or "out" in report.findings[0].split(";")[0]


def test_inputs_that_cannot_show_a_mistake_are_said():
    """Embedding indices without a repeat: dW[x] = dout gives the true dW, and the note says so."""
    x = np.arange(6).reshape(2, 3)
    W = np.random.default_rng(0).standard_normal((6, 4))
    report = check_layer(*student.planted("word_embedding", "embedding-overwrite"), "word_embedding", x, W)
    assert report.ok
    assert [c.key for c in report.diagnosis.unseen] == ["embedding-overwrite"]
    assert "could not have seen" in report.text() and "leave the inputs out" in report.text()


def test_a_mask_that_keeps_the_wrong_fraction_is_said():
    """p read as the drop probability in the mask (rand >= p), scaled by the keep probability."""

    def forward(x, dropout_param):
        np.random.seed(dropout_param["seed"])
        mask = (np.random.rand(*x.shape) >= dropout_param["p"]) / dropout_param["p"]
        return x * mask, (dropout_param, mask)

    report = check_layer(forward, student.dropout_backward, "dropout")
    assert not report.ok
    assert "keeps 3" in report.text() and "probability of dropping" in report.text()


def test_given_inputs_and_upstream_gradient_are_used():
    x, w, b = drawn("affine")
    dout = np.random.default_rng(7).standard_normal((5, 3))
    seen = []

    def backward(d, cache):
        seen.append(d)
        return student.affine_backward(d, cache)

    report = check_layer(student.affine_forward, backward, "affine", x, w, b, dout=dout)
    assert report.ok and not report.drawn and np.array_equal(seen[0], dout)
    with pytest.raises(ValueError, match=r"dout: expected shape \(5, 3\)"):
        check_layer(student.affine_forward, backward, "affine", x, w, b, dout=np.ones((3, 5)))


def test_a_relu_kink_in_the_users_inputs_is_noted_not_failed():
    """x exactly 0: PyTorch, JAX and the user take the derivative as 0, a central difference as 1/2."""
    x = np.array([[0.0, 1.0, -2.0], [3.0, 0.0, -1.0]])
    report = check_layer(student.relu_forward, student.relu_backward, "relu", x)
    assert report.ok, report.text()
    assert [r.verdict for r in report.rows if r.truth == "finite differences"] == ["NOTE"]
    assert "kink" in report.text()
    # the headline claims no agreement with finite differences, whose column reads NOTE
    headline = next(x for x in report.text().splitlines() if "your relu agrees" in x)
    assert headline.strip() == "your relu agrees with torch and jax (finite differences: see the note)"


KINKED = np.array([[0.0, 1.0, -2.0], [3.0, 0.0, -1.0]])  # x exactly 0 at (0, 0) and (1, 1)
KINKED_DOUT = np.array([[2.0, -1.0, 0.5], [1.5, -3.0, 4.0]])


def test_a_relu_with_another_derivative_at_its_kink_is_noted_not_failed():
    """dx = dout * (x >= 0): relu′(0) = 1 where PyTorch and JAX take 0 and a central difference
    1/2. Any value in [0, 1] · dout is a subgradient there: a NOTE, not a FAIL, and said why."""

    def relu_backward_ge(dout, x):
        return dout * (x >= 0)

    report = check_layer(student.relu_forward, relu_backward_ge, "relu", KINKED, dout=KINKED_DOUT)
    assert report.ok, report.text()
    assert [(r.truth, r.verdict) for r in report.rows if r.name == "dx"] == [
        ("torch", "NOTE"),
        ("jax", "NOTE"),
        ("finite differences", "NOTE"),
    ], report.text()
    text = report.text()
    assert "your relu′(0) = 1, where torch and jax take 0 and finite differences 0.5" in text, text
    assert "a convention at the kink, not a mistake" in text and "anywhere else" in text, text
    assert "in every correct implementation" not in text, text  # the exact-entries note is not said
    # the headline claims no agreement it did not see: every truth's dx column reads NOTE
    headline = next(x for x in text.splitlines() if "your relu agrees" in x)
    assert headline.strip() == (
        "your relu agrees with torch and jax and finite differences away from its kink (see the note)"
    )
    # the verdict the command line's exit code and --json read; the pytest assertion passes
    assert report.to_json()["ok"] and report.to_json()["diagnosis"]["verdict"] == "agrees"
    assert report.diagnosis.verdict == "agrees"  # the kink's entries are not counted
    assert_layer_matches(student.relu_forward, relu_backward_ge, "relu", KINKED, dout=KINKED_DOUT)

    def relu_backward_half(dout, x):  # relu′(0) = 1/2, a central difference's: the frameworks' NOTE
        return dout * ((x > 0) + 0.5 * (x == 0))

    report = check_layer(student.relu_forward, relu_backward_half, "relu", KINKED, dout=KINKED_DOUT)
    assert report.ok, report.text()
    assert [r.verdict for r in report.rows if r.name == "dx"] == ["NOTE", "NOTE", "PASS"]
    assert "your relu′(0) = 0.5, where torch and jax take 0" in report.text(), report.text()
    assert "your relu agrees with finite differences (torch and jax: see the note)" in report.text()

    # an input within central differences' step of 0 (1e-8): they differ there too, the frameworks not
    near = KINKED.copy()
    near[0, 1] = 1e-8
    report = check_layer(student.relu_forward, relu_backward_ge, "relu", near, dout=KINKED_DOUT)
    assert report.ok, report.text()
    assert "dx differs from torch and jax only where x is exactly 0" in report.text(), report.text()
    assert "finite differences differ elsewhere too, where yours is the frameworks'" in report.text()


def test_a_relu_wrong_away_from_its_kink_or_outside_its_subgradients_fails():
    """The kink's NOTE covers only x exactly 0 and values between the one-sided derivatives'
    (0 and dout): a mask at x > 0.1, a dout dropped at x = 1, or 2 · dout or −dout at the kink fail."""
    x = KINKED.copy()
    x[0, 1] = 0.05

    def dropped(dout, x):
        dx = dout * (x >= 0)
        dx[0, 1] = 0.0  # x = 1 there: relu′ = 1
        return dx

    backwards = {
        "x > 0.1": (lambda dout, x: dout * (x > 0.1), x),
        "dout dropped at x = 1": (dropped, KINKED),
        "2 dout at 0": (lambda dout, x: dout * ((x > 0) + 2.0 * (x == 0)), KINKED),
        "-dout at 0": (lambda dout, x: dout * ((x > 0) - 1.0 * (x == 0)), KINKED),
    }
    for what, (backward, inputs) in backwards.items():
        report = check_layer(student.relu_forward, backward, "relu", inputs, dout=KINKED_DOUT)
        assert not report.ok, what
        verdicts = [(r.truth, r.verdict) for r in report.rows if r.name == "dx"]
        assert ("torch", "FAIL") in verdicts and ("jax", "FAIL") in verdicts, (what, report.text())
        assert "away from its kink" not in report.text(), report.text()
    # yours a subgradient at the kink and wrong elsewhere: the note says which is which, and the
    # diagnosis judges the rest (the kink's entries are not counted, in yours nor in a mistake's)
    report = check_layer(student.relu_forward, dropped, "relu", KINKED, dout=KINKED_DOUT)
    text = report.text()
    assert "yours there (relu′(0) = 1) is a subgradient" in text, text
    assert "the 1 other entry that differs from the frameworks, at (0, 1), is what fails" in text, text
    assert "only dx differs in 1 of 6 entries: (0, 1)" in text, text
    inverted = check_layer(
        student.relu_forward, lambda dout, x: dout * (x <= 0), "relu", KINKED, dout=KINKED_DOUT
    )
    assert inverted.explained_by == ["mask-inverted"], inverted.text()


def test_dropout_inputs_with_zeros_are_refused():
    x = np.ones((4, 5))
    x[1, 2] = 0
    with pytest.raises(ValueError, match="x must have no zeros; it has 1"):
        check_layer(
            student.dropout_forward, student.dropout_backward, "dropout", x, {"p": 0.5, "mode": "train"}
        )


# ------------------------------------------------------------------ the spatial kinds and the temporal loss


@pytest.mark.parametrize("style", ["vectorized", "loops"])
@pytest.mark.parametrize(
    "conv_param", [{"stride": 1, "pad": 1}, {"stride": 2, "pad": 1}, {"stride": 2, "pad": 0}]
)
def test_a_correct_conv_with_padding_and_stride_is_not_flagged(conv_param, style):
    forward, backward = student.FUNCTIONS["conv"] if style == "vectorized" else student.second_style("conv")
    report = check_layer(forward, backward, "conv", **conv_param)
    assert report.ok, report.text()
    assert report.diagnosis.unseen == []


@pytest.mark.parametrize("key", ["conv-dw-flipped", "conv-dx-flipped"])
@pytest.mark.parametrize("conv_param", [{"stride": 1, "pad": 1}, {"stride": 2, "pad": 1}])
def test_conv_mistakes_are_named_with_padding_and_stride(conv_param, key):
    report = check_layer(*student.planted("conv", key), "conv", **conv_param)
    assert report.explained_by == [key], report.text()


@pytest.mark.parametrize("style", ["vectorized", "loops"])
@pytest.mark.parametrize("kind", ["max_pool", "avg_pool"])
def test_correct_pooling_without_overlap_is_not_flagged(kind, style):
    """CS231n's own 2 × 2 windows every 2: the overlap mistakes cannot show there, and are said so."""
    forward, backward = student.FUNCTIONS[kind] if style == "vectorized" else student.second_style(kind)
    report = check_layer(forward, backward, kind, pool_height=2, pool_width=2, stride=2)
    assert report.ok, report.text()
    unseen = {c.key for c in report.diagnosis.unseen}
    assert unseen == ({"maxpool-assign", "maxpool-assign-max"} if kind == "max_pool" else {"avgpool-assign"})


@pytest.mark.parametrize("style", ["vectorized", "loops"])
def test_tied_maxima_go_to_the_first_as_pytorch_routes_them(style):
    """Integer inputs: windows with tied maxima. PyTorch and JAX send the gradient to the first (as the
    students do); central differences, at a max's kink, take half of each side: a NOTE, not a FAIL."""
    forward, backward = (
        student.FUNCTIONS["max_pool"] if style == "vectorized" else student.second_style("max_pool")
    )
    x, pool_param = student._tied_pool_inputs()
    report = check_layer(forward, backward, "max_pool", x, pool_param)
    assert report.ok, report.text()
    assert [r.verdict for r in report.rows if r.truth == "finite differences"] == ["NOTE"]
    assert "tied maxima in a pooling window" in report.text()


def test_a_tie_mistake_says_nothing_where_there_are_no_ties():
    """The last maximum is the first where each window has one: no mistake, and no note about it."""
    report = check_layer(*student.planted("max_pool", "maxpool-tie-last"), "max_pool")
    assert report.ok and report.diagnosis.unseen == [] and report.notes == []


def test_conv_padding_not_stripped_is_named_by_its_shape():
    report = check_layer(student.conv_forward_naive, student._conv_padding_kept, "conv", pad=1)
    assert not report.ok
    assert report.findings == [
        "your dx has shape (2, 3, 7, 8); it should have (2, 3, 5, 6) (the padded input's shape: the padding "
        "not stripped, pad 1 on each side; inside it your values are right; dx = dx_pad[:, :, pad:pad + H, "
        "pad:pad + W])"
    ]


def test_conv_dx_cut_with_pad_minus_pad_at_pad_0_is_said():
    report = check_layer(student.conv_forward_naive, student._conv_pad_minus_pad, "conv", pad=0)
    assert "your dx has shape (2, 3, 0, 0)" in report.text()
    assert "dx_pad[:, :, pad:-pad, pad:-pad] with pad 0 is an empty slice" in report.text()
    assert check_layer(student.conv_forward_naive, student._conv_pad_minus_pad, "conv", pad=1).ok


def test_spatial_batchnorm_in_test_mode():
    forward, backward = student.FUNCTIONS["spatial_batchnorm"]
    x, gamma, beta, _ = drawn("spatial_batchnorm")
    bn_param = {"mode": "test", "eps": 1e-3, "running_mean": np.full(3, 0.5), "running_var": np.full(3, 2.0)}
    assert check_layer(forward, backward, "spatial_batchnorm", x, gamma, beta, bn_param).ok


def test_the_temporal_loss_with_the_users_mask():
    x, y, mask = drawn("temporal_softmax_loss")
    mask = np.zeros_like(mask)
    mask[0, 0] = True
    assert check_layer(student.temporal_softmax_loss, None, "temporal_softmax_loss", x, y, mask).ok
    # with every position counted, leaving the mask out of the backward is no mistake: said as unseen
    report = check_layer(
        *student.planted("temporal_softmax_loss", "tsl-mask-backward"),
        "temporal_softmax_loss",
        x,
        y,
        np.ones_like(mask),
    )
    assert report.ok and {"tsl-mask-backward", "tsl-mask-ignored"} <= {c.key for c in report.diagnosis.unseen}


def test_spatial_and_temporal_inputs_of_the_wrong_shape_are_said():
    forward, backward = student.FUNCTIONS["conv"]
    with pytest.raises(ValueError, match=r"x: expected \(N, C, H, W\) for conv, got shape \(3, 5, 6\)"):
        check_layer(forward, backward, "conv", np.ones((3, 5, 6)), np.ones((4, 3, 3, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"with C = 2 \(x's channels\)"):
        check_layer(forward, backward, "conv", np.ones((1, 2, 5, 6)), np.ones((4, 3, 3, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"w: its \(3, 3\) windows are larger than x padded by 0"):
        check_layer(forward, backward, "conv", np.ones((1, 3, 2, 6)), np.ones((4, 3, 3, 3)), np.ones(4))
    with pytest.raises(ValueError, match="conv_param: expected 'pad', an integer >= 0, got None"):
        check_layer(forward, backward, "conv", *drawn("conv")[:3], {"stride": 1})
    with pytest.raises(ValueError, match="pool_param: expected 'stride', an integer >= 1, got 0"):
        check_layer(*student.FUNCTIONS["max_pool"], "max_pool", stride=0)
    x, y, mask = drawn("temporal_softmax_loss")
    with pytest.raises(ValueError, match=r"y: expected integer labels in \[0, V = 6\)"):
        check_layer(student.temporal_softmax_loss, None, "temporal_softmax_loss", x, y + 6, mask)
    with pytest.raises(TypeError, match="mask: expected a bool array"):
        check_layer(student.temporal_softmax_loss, None, "temporal_softmax_loss", x, y, mask.astype(int))
    with pytest.raises(ValueError, match="mask: no position is True"):
        check_layer(student.temporal_softmax_loss, None, "temporal_softmax_loss", x, y, np.zeros_like(mask))


def test_entries_that_are_exact_show_it_not_a_huge_ratio():
    """The mask left out of the temporal loss's backward: dx is exactly 0 where the mask is False in
    every truth (a bound of 0); the column says "exact 0", not err / 2e-305."""
    report = check_layer(
        *student.planted("temporal_softmax_loss", "tsl-mask-backward"), "temporal_softmax_loss"
    )
    dx = [r for r in report.rows if r.name == "dx" and r.truth != "finite differences"]
    assert [(r.exact_missed, r.exact_zero, r.ok) for r in dx] == [(18, True, False)] * 2
    assert all(r.ratio <= 1 for r in dx)  # over the other entries, which are right
    text = report.text()
    assert "exact 0  FAIL" in text and "e+30" not in text
    assert "dx: 18 entries are exactly 0 in every correct implementation" in text
    assert "<td>exact 0</td>" in report._repr_html_()
    assert report.to_json()["rows"][1]["exact_missed"] == 18
    # where the other entries are wrong too (a fresh dropout mask), their err / allowed is shown
    report = check_layer(*student.planted("dropout", "dropout-fresh-mask"), "dropout")
    row = next(r for r in report.rows if r.name == "dx" and r.truth == "torch")
    assert row.exact_missed > 0 and row.ratio > 1 and "exact 0" not in report.text().splitlines()[4]
    assert "entries are exactly 0 in every correct implementation" in report.text()


def test_a_fresh_dropout_mask_in_a_students_own_style_is_named_exactly():
    """A fresh user's dropout: the mask times 1/p in the forward, redrawn in the backward. Where the
    new mask keeps what the forward dropped the truth is exactly 0 (no rounding allowed) and the
    mistake's value dout / p; yours, dout * (1 / p), is that to one rounding: no second difference."""

    def dropout_forward(x, dp):
        np.random.seed(dp["seed"])
        mask = (np.random.rand(*x.shape) < dp["p"]) / dp["p"]
        return x * mask, (dp, mask)

    def dropout_backward(dout, cache):
        dp, _ = cache
        return dout * ((np.random.rand(*dout.shape) < dp["p"]) / dp["p"])

    report = check_layer(dropout_forward, dropout_backward, "dropout")
    assert report.explained_by == ["dropout-fresh-mask"], report.text()
    assert (
        "gives exactly these values" in report.text() and "a second, smaller difference" not in report.text()
    )


def test_a_mistake_named_beside_a_relu_kink_is_said_to_hold_away_from_it():
    """A fresh user's relu masked by dout, on inputs with exact zeros: the mistake is named from the
    other entries, and the report says the kink's were left out."""
    x = np.array([[0.0, 1.5, -2.0], [0.0, -0.5, 3.0], [2.0, 0.0, -1.0], [0.7, -0.2, 0.0]])
    report = check_layer(student.relu_forward, lambda dout, x: dout * (dout > 0), "relu", x)
    assert "mask-from-dout" in report.explained_by, report.text()
    assert "what is named gives these values away from x = 0: the 4 dx entries at the kink" in report.text()


def test_a_mistake_that_explains_the_gradients_but_not_the_loss_says_so_in_the_json():
    """A fresh user's svm with two mistakes: the loss summed, not divided by N, and the true
    class's column left out of dx (divided by N): the gradients are one catalogue mistake's, the
    loss is not, and --json says the loss is unexplained."""

    def svm(x, y):
        n, r = x.shape[0], np.arange(x.shape[0])
        m = np.maximum(0, x - x[r, y][:, None] + 1.0)
        m[r, y] = 0
        return m.sum(), (m > 0).astype(float) / n

    report = check_layer(svm, None, "svm_loss")
    assert report.explained_by == ["svm-no-true-column"] and "(not this loss)" in report.text()
    assert report.to_json()["diagnosis"]["loss_explained"] is False
    one = check_layer(*student.planted("svm_loss", "svm-no-true-column"), "svm_loss")
    assert one.to_json()["diagnosis"]["loss_explained"] is True


def test_one_exact_entry_is_said_in_the_singular():
    rng = np.random.default_rng(3)
    x, y, mask = rng.standard_normal((2, 3, 4)), rng.integers(0, 4, (2, 3)), np.ones((2, 3), bool)
    mask[1, 2] = False  # one masked step: its 4 entries of dx are exactly 0, and one of them is not

    def one_missed(x, y, mask):
        loss, dx = student.temporal_softmax_loss(x, y, mask)
        dx[1, 2, 0] = 0.25
        return loss, dx

    text = check_layer(one_missed, None, "temporal_softmax_loss", x, y, mask).text()
    assert "dx: 1 entry is exactly 0 in every correct implementation" in text and "yours is not" in text, text


# ------------------------------------------------------------------ recurrences, attention, group norm


@pytest.mark.parametrize("kind", ["lstm_step", "lstm"])
def test_the_gate_order_is_a_keyword_away(kind):
    """CS231n's i, f, o, g by default; PyTorch's i, f, g, o with gate_order="ifgo": each student
    passes in its own order and is named in the other."""
    cs231n, torch_style = student.FUNCTIONS[kind], student.second_style(kind)
    assert check_layer(*cs231n, kind).ok and check_layer(*torch_style, kind, gate_order="ifgo").ok
    report = check_layer(*cs231n, kind, gate_order="ifgo")
    assert report.explained_by == ["lstm-gate-order"], report.text()
    assert "gate_order='ifgo'" in report.text()
    with pytest.raises(ValueError, match="gate_order: expected 'ifog'"):
        check_layer(*cs231n, kind, gate_order="iofg")


def test_rnn_takes_no_keywords():
    with pytest.raises(TypeError, match="rnn takes no config; got gate_order"):
        check_layer(*student.FUNCTIONS["rnn"], "rnn", gate_order="ifgo")


def test_lstm_step_checks_dnext_c_against_frameworks_not_the_engine():
    """The engine's LSTM returns h alone: lstm_step's truths are PyTorch's LSTMCell, JAX and central
    differences, and the note says so; the user's (dnext_h, dnext_c) is taken as a pair."""
    x, prev_h, prev_c, Wx, Wh, b = drawn("lstm_step")
    rng = np.random.default_rng(5)
    dnext_h, dnext_c = rng.standard_normal(prev_h.shape), rng.standard_normal(prev_h.shape)
    seen = []

    def backward(dh, dc, cache):
        seen.append((dh, dc))
        return student.lstm_step_backward(dh, dc, cache)

    report = check_layer(
        student.lstm_step_forward,
        backward,
        "lstm_step",
        x,
        prev_h,
        prev_c,
        Wx,
        Wh,
        b,
        dout=(dnext_h, dnext_c),
    )
    assert report.ok, report.text()
    assert np.array_equal(seen[0][0], dnext_h) and np.array_equal(seen[0][1], dnext_c)
    assert [r.name for r in report.rows[:2]] == ["next_h", "next_c"]
    assert "nn.LSTMCell" in report.text()
    # dnext_c matters: with it 0 the forgotten-dnext_c mistake cannot show, and is said
    report = check_layer(
        *student.planted("lstm_step", "lstm-no-dc-next"), "lstm_step", x, prev_h, prev_c, Wx, Wh, b,
        dout=(dnext_h, 0 * dnext_c),
    )  # fmt: skip
    assert report.ok and "lstm-no-dc-next" in {c.key for c in report.diagnosis.unseen}


def test_an_lstm_step_that_returns_the_wrong_things_is_said():
    def forward_one(*args):
        next_h, next_c, cache = student.lstm_step_forward(*args)
        return next_h, cache

    def forward_shapes(*args):
        next_h, next_c, cache = student.lstm_step_forward(*args)
        return next_h, next_c[:, :1], cache

    with pytest.raises(LayerCallError, match=r"a tuple of 2 items; expected \(next_h, next_c, cache\)"):
        check_layer(forward_one, student.lstm_step_backward, "lstm_step")
    with pytest.raises(LayerCallError, match=r"outputs differ in shape: next_h \(3, 2\), next_c \(3, 1\)"):
        check_layer(forward_shapes, student.lstm_step_backward, "lstm_step")


def test_attention_without_a_mask_and_with_a_causal_one():
    q, k, v, _ = drawn("attention")
    report = check_layer(student.attention_forward, student.attention_backward, "attention", q, k, v)
    assert report.ok and "mask" not in report.shapes
    # without a mask there is nothing to leave out of the backward: that entry does not apply
    assert check_layer(*student.planted("attention", "attention-mask-backward"), "attention", q, k, v).ok
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal(s) for s in ((2, 4, 3), (2, 4, 3), (2, 4, 5)))
    causal = np.tril(np.ones((4, 4), int))
    for style in (student.FUNCTIONS["attention"], student.second_style("attention")):
        assert check_layer(*style, "attention", q, k, v, causal).ok
    report = check_layer(
        *student.planted("attention", "attention-mask-backward"), "attention", q, k, v, causal
    )
    assert report.explained_by == ["attention-mask-backward"], report.text()


def test_attention_from_the_forwards_P_needs_no_mask_step():
    """The backward that never looks at the mask but uses the forward's P (0 at the hidden keys) is
    right: dS = P ⊙ (...) is 0 there. Only a P recomputed without the mask is the mistake."""
    report = check_layer(student.attention_forward, student.attention_backward, "attention")
    assert report.ok and report.diagnosis.unseen == []


def test_attention_masks_the_check_cannot_express_are_said():
    q, k, v, mask = drawn("attention")
    odd = mask.copy()
    odd[0, 1, 0] = False  # one query alone hides a key: neither a key mask nor the causal one
    with pytest.raises(ValueError, match="this mask is neither"):
        check_layer(*student.FUNCTIONS["attention"], "attention", q, k, v, odd)
    with pytest.raises(ValueError, match=r"mask: expected \(N, Tq, Tk\)"):
        check_layer(*student.FUNCTIONS["attention"], "attention", q, k, v, mask[:, :, :2])
    with pytest.raises(TypeError, match="mask: expected bool or 0/1"):
        check_layer(*student.FUNCTIONS["attention"], "attention", q, k, v, mask * 2.0)


@pytest.mark.parametrize("G, unseen", [(1, {"gn-per-sample"}), (6, {"gn-per-channel"}), (2, set())])
def test_group_norm_with_one_group_every_channel_and_between(G, unseen):
    """G = 1 is a layer norm and G = C an instance norm: there the mistake that computes it is no
    mistake, and is said unseen; gamma of shape (C,) is read as well as CS231n's (1, C, 1, 1)."""
    x, gamma, beta, _, gn_param = drawn("spatial_groupnorm")
    for style in (student.FUNCTIONS["spatial_groupnorm"], student.second_style("spatial_groupnorm")):
        report = check_layer(*style, "spatial_groupnorm", x, gamma, beta, G, gn_param)
        assert report.ok, report.text()
        assert {c.key for c in report.diagnosis.unseen} == unseen

    def forward(x, g, b, G, p):  # gamma and beta (C,)
        return student.spatial_groupnorm_forward(x, g[None, :, None, None], b[None, :, None, None], G, p)

    def backward(dout, cache):
        dx, dgamma, dbeta = student.spatial_groupnorm_backward(dout, cache)
        return dx, dgamma.reshape(-1), dbeta.reshape(-1)

    report = check_layer(
        forward, backward, "spatial_groupnorm", x, gamma.reshape(-1), beta.reshape(-1), G, gn_param
    )
    assert report.ok, report.text()
    with pytest.raises(ValueError, match="G: expected an integer number of groups dividing C = 6"):
        check_layer(*student.FUNCTIONS["spatial_groupnorm"], "spatial_groupnorm", x, gamma, beta, 4, gn_param)


def test_recurrent_inputs_of_the_wrong_shape_are_said():
    x, h0, Wx, Wh, b = drawn("rnn")
    with pytest.raises(ValueError, match=r"x: expected \(N, T, D\)"):
        check_layer(*student.FUNCTIONS["rnn"], "rnn", x[:, 0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"Wx \(5, 2\) \(expected \(5, 8\)\)"):
        check_layer(*student.FUNCTIONS["lstm"], "lstm", x, h0, Wx, np.hstack([Wh] * 4), np.hstack([b] * 4))


# ------------------------------------------------------------------ shapes and what functions return


def test_dx_not_reshaped_back_is_said():
    def backward(dout, cache):
        dx, dw, db = student.affine_backward(dout, cache)
        return dx.reshape(len(dx), -1), dw, db

    report = check_layer(student.affine_forward, backward, "affine")
    assert not report.ok
    assert "your dx has shape (5, 6); it should have (5, 2, 3)" in report.text()
    assert "reshape it to the input's shape" in report.text()


def test_db_over_the_wrong_axis_is_said():
    def backward(dout, cache):
        dx, dw, db = student.affine_backward(dout, cache)
        return dx, dw, dout.sum(axis=1)

    report = check_layer(student.affine_forward, backward, "affine")
    assert not report.ok and "your db has shape (5,); it should have (3,)" in report.text()


def test_a_transposed_dw_is_said():
    def backward(dout, cache):
        dx, dw, db = student.affine_backward(dout, cache)
        return dx, dw.T, db

    report = check_layer(student.affine_forward, backward, "affine")
    assert "(its values are right, transposed)" in report.text()


def test_a_transposed_and_flattened_dx_is_said_so():
    # dx = w @ dout.T: (D, N) = (6, 5) for x (5, 2, 3), its values right once transposed and reshaped
    def backward(dout, cache):
        dx, dw, db = student.affine_backward(dout, cache)
        return dx.reshape(len(dx), -1).T, dw, db

    text = check_layer(student.affine_forward, backward, "affine").text()
    assert "your dx has shape (6, 5); it should have (5, 2, 3)" in text
    assert "transposed and flattened" in text and "summed over the wrong axis" not in text, text


def test_nan_is_named_not_diagnosed():
    def backward(dout, cache):
        dx, dgamma, dbeta = student.batchnorm_backward(dout, cache)
        dx[1, 2] = np.nan
        return dx, dgamma, dbeta

    report = check_layer(student.batchnorm_forward, backward, "batchnorm")
    assert not report.ok and report.diagnosis.verdict == "non-finite"
    assert "dx has 1 NaN (of 20 entries) at (1, 2)" in report.text()


def test_torch_tensors_are_read():
    import torch

    def backward(dout, cache):
        return tuple(
            torch.from_numpy(np.asarray(g)).requires_grad_(True) for g in student.affine_backward(dout, cache)
        )

    assert check_layer(student.affine_forward, backward, "affine").ok


@pytest.mark.parametrize(
    "result, said",
    [
        (None, "returned None; expected dx, dgamma, dbeta"),
        ((1, 2), "returned a tuple of 2 items; expected dx, dgamma, dbeta"),
        (("a", "b", "c"), "expected an array of numbers"),
    ],
)
def test_a_backward_that_returns_the_wrong_things_is_said(result, said):
    with pytest.raises(LayerCallError, match=said.replace("(", r"\(").replace(")", r"\)")):
        check_layer(student.batchnorm_forward, lambda dout, cache: result, "batchnorm")


def test_a_forward_without_its_cache_is_said():
    with pytest.raises(LayerCallError, match=r"expected \(out, cache\)"):
        check_layer(lambda x: np.maximum(x, 0), student.relu_backward, "relu")


def hostile(what):
    def backward(dout, cache):
        if what == "raise":
            raise RuntimeError("my bug")
        if what == "exit":
            sys.exit(3)
        while True:
            pass

    return backward


@pytest.mark.parametrize(
    "what, kind, said",
    [
        ("raise", "raised", "raised RuntimeError: my bug"),
        ("exit", "exited", "called exit(3)"),
        ("hang", "timed out", "did not return within 0.5 s"),
    ],
)
def test_a_backward_that_raises_exits_or_hangs_is_reported_as_its_own(what, kind, said):
    with pytest.raises(UserCodeError, match=said.replace("(", r"\(").replace(")", r"\)")) as err:
        check_layer(student.relu_forward, hostile(what), "relu", timeout=0.5)
    assert err.value.kind == kind


def test_what_a_layer_prints_goes_to_stderr(capsys):
    def backward(dout, cache):
        print("debugging dx")
        return student.relu_backward(dout, cache)

    report = check_layer(student.relu_forward, backward, "relu")
    out, err = capsys.readouterr()
    assert report.ok and "debugging dx" in err and "debugging dx" not in out


def test_bad_arguments_are_said_before_anything_runs():
    called = []

    def forward(*args):
        called.append(args)
        return student.relu_forward(*args)

    with pytest.raises(ValueError, match="kind: expected one of"):
        check_layer(forward, student.relu_backward, "conv_nope")
    with pytest.raises(TypeError, match="takes x; got 2 arguments"):
        check_layer(forward, student.relu_backward, "relu", np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="not both"):
        check_layer(forward, student.relu_backward, "dropout", np.ones((2, 2)), {"p": 0.5}, p=0.3)
    with pytest.raises(TypeError, match="backward=None"):
        check_layer(student.softmax_loss, student.relu_backward, "softmax_loss")
    assert called == []


def test_the_users_inputs_are_not_changed():
    x, gamma, beta, bn_param = drawn("batchnorm")
    before = x.copy(), dict(bn_param)

    def forward(x, gamma, beta, bn_param):
        out = student.batchnorm_forward(x, gamma, beta, bn_param)
        x *= 2  # in place: the check must have given a copy
        return out

    check_layer(forward, student.batchnorm_backward, "batchnorm", x, gamma, beta, bn_param)
    assert np.array_equal(x, before[0]) and bn_param == before[1]


# ------------------------------------------------------------------ the engine's layers, as a user's


def _engine_layer(make, to_params, reshape=False):
    def forward(x, *args):
        params = to_params(x, *args)
        layer = make(x, *args)
        buffers = layer.init_buffers(x.dtype if x.dtype.kind == "f" else np.float64)
        xin = x.reshape(len(x), -1) if reshape else x
        rng = np.random.default_rng(args[-1].get("seed", 0)) if args and isinstance(args[-1], dict) else None
        train = not (args and isinstance(args[-1], dict) and args[-1].get("mode") == "test")
        out, cache = layer.forward(params, xin, train=train, rng=rng, buffers=buffers)
        return out, (layer, cache, x.shape)

    def backward(dout, cache):
        layer, inner, shape = cache
        dx, grads = layer.backward(dout, inner)
        results = ([] if dx is None else [dx.reshape(shape)]) + list(grads.values())
        return results[0] if len(results) == 1 else tuple(results)

    return forward, backward


ENGINE = {
    "affine": _engine_layer(
        lambda x, w, b: L.Linear(*w.shape), lambda x, w, b: {"W": w, "b": b}, reshape=True
    ),
    "temporal_affine": _engine_layer(lambda x, w, b: L.Linear(*w.shape), lambda x, w, b: {"W": w, "b": b}),
    "relu": _engine_layer(lambda x: L.ReLU(), lambda x: {}),
    "sigmoid": _engine_layer(lambda x: L.Sigmoid(), lambda x: {}),
    "tanh": _engine_layer(lambda x: L.Tanh(), lambda x: {}),
    "batchnorm": _engine_layer(
        lambda x, g, b, bn: L.BatchNorm1d(x.shape[1], eps=bn["eps"]),
        lambda x, g, b, bn: {"gamma": g, "beta": b},
    ),
    "layernorm": _engine_layer(
        lambda x, g, b, ln: L.LayerNorm(x.shape[1], eps=ln["eps"]),
        lambda x, g, b, ln: {"gamma": g, "beta": b},
    ),
    "dropout": _engine_layer(lambda x, dp: L.Dropout(1 - dp["p"]), lambda x, dp: {}),
    "word_embedding": _engine_layer(lambda x, W: L.Embedding(*W.shape), lambda x, W: {"W": W}),
    "conv": _engine_layer(
        lambda x, w, b, cp: L.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), cp["stride"], cp["pad"]),
        lambda x, w, b, cp: {"W": w, "b": b},
    ),
    "max_pool": _engine_layer(
        lambda x, pp: L.MaxPool2d((pp["pool_height"], pp["pool_width"]), pp["stride"]), lambda x, pp: {}
    ),
    "avg_pool": _engine_layer(
        lambda x, pp: L.AvgPool2d((pp["pool_height"], pp["pool_width"]), pp["stride"]), lambda x, pp: {}
    ),
    "spatial_batchnorm": _engine_layer(
        lambda x, g, b, bn: L.BatchNorm2d(x.shape[1], eps=bn["eps"]),
        lambda x, g, b, bn: {"gamma": g, "beta": b},
    ),
}


def _engine_groupnorm():
    forward, backward = _engine_layer(
        lambda x, g, b, G, gp: L.GroupNorm(G, x.shape[1], eps=gp["eps"]),
        lambda x, g, b, G, gp: {"gamma": g.reshape(-1), "beta": b.reshape(-1)},
    )

    def wrapped_backward(dout, cache):
        dx, dgamma, dbeta = backward(dout, cache)
        return dx, dgamma.reshape(1, -1, 1, 1), dbeta.reshape(1, -1, 1, 1)

    return forward, wrapped_backward


def _engine_rnn():
    """The engine's RNN in rnn_forward's signature: W_ih = Wx, one bias (b_hh = 0)."""

    def fwd(x, h0, Wx, Wh, b):
        layer = L.RNN(Wx.shape[0], Wh.shape[0])
        params = {"W_ih": Wx, "W_hh": Wh, "b_ih": b, "b_hh": np.zeros_like(b)}
        out, cache = layer.forward(params, (x, h0))
        return out, (layer, cache)

    def bwd(dout, cache):
        layer, inner = cache
        (dx, dh0), grads = layer.backward(dout, inner)
        return dx, dh0, grads["W_ih"], grads["W_hh"], grads["b_ih"]

    return fwd, bwd


def _engine_attention():
    def fwd(q, k, v, mask=None):
        layer = L.ScaledDotProductAttention()
        hidden = None if mask is None else ~np.asarray(mask, bool)[:, 0, :]  # a key mask: True = ignore
        out, cache = layer.forward({}, (q, k, v) if hidden is None else (q, k, v, hidden))
        return out, (layer, cache)

    def bwd(dout, cache):
        layer, inner = cache
        dx, _ = layer.backward(dout, inner)
        return dx[:3]

    return fwd, bwd


ENGINE["spatial_groupnorm"] = _engine_groupnorm()
ENGINE["rnn"] = _engine_rnn()
ENGINE["attention"] = _engine_attention()


def _engine_temporal_softmax_loss(x, y, mask):
    """The engine's cross-entropy head on the counted positions, summed, over N."""
    value, grad = HEADS["cross_entropy"].value_and_grad(x[mask], y[mask], "sum")
    dx = np.zeros_like(x)
    dx[mask] = grad / len(x)
    return value / len(x), dx


@pytest.mark.parametrize("kind", list(ENGINE) + ["softmax_loss", "temporal_softmax_loss"])
def test_the_engines_own_layers_pass_as_a_users_would(kind):
    """The engine's layer in CS231n's signature (the svm loss has no engine counterpart)."""
    if kind == "temporal_softmax_loss":
        report = check_layer(_engine_temporal_softmax_loss, None, kind)
    elif kind == "softmax_loss":

        def forward(x, y):
            return HEADS["cross_entropy"].value_and_grad(x, y, "mean")

        report = check_layer(forward, None, kind)
    else:
        report = check_layer(*ENGINE[kind], kind)
    assert report.ok, report.text()


# ------------------------------------------------------------------ the assertion, the report


def test_assert_layer_matches_carries_the_diagnosis():
    assert assert_layer_matches(student.relu_forward, student.relu_backward, "relu").ok
    with pytest.raises(AssertionError, match="dγ and dβ swapped"):
        assert_layer_matches(*student.planted("batchnorm", "bn-swapped"), "batchnorm")


def test_the_report_as_json_and_html():
    report = check_layer(*student.planted("softmax_loss", "softmax-no-one"), "softmax_loss")
    data = report.to_json()
    assert data["ok"] is False and data["diagnosis"]["verdict"] == "explained"
    assert [e["mistake"] for e in data["diagnosis"]["explained_by"]] == ["softmax-no-one"]
    assert {r["name"] for r in data["rows"]} == {"loss", "dx"}
    page = report._repr_html_()
    assert "<table>" in page and "FAIL" in page and "the 1 not subtracted" in page


def test_forward_names_follow_cs231n():
    assert forward_name("batchnorm_backward") == "batchnorm_forward"
    assert forward_name("batchnorm_backward_alt") == "batchnorm_forward"
    assert forward_name("conv_backward_naive") == "conv_forward_naive"
    assert forward_name("rnn_step_backward") == "rnn_step_forward"
    assert forward_name("lstm_step_backward") == "lstm_step_forward"
    assert forward_name("backward") is None and forward_name("grad") is None


# ------------------------------------------------------------------ the command line

LAYERS_PY = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from cs231n_student import (
        batchnorm_forward, batchnorm_backward, batchnorm_backward_alt, softmax_loss, relu_forward,
    )
    from cs231n_student import _bn_swapped as batchnorm_backward_swapped
    from cs231n_student import conv_forward_naive, conv_backward_naive, loops
    from cs231n_student import _conv_dw_flipped as conv_backward_flipped
    import numpy as np

    def relu_backward(dout, cache):
        print("debugging")
        return dout * (cache > 0)

    def relu_backward_broken(dout, cache):
        raise RuntimeError("my bug")

    def relu_forward_broken(x):
        return relu_forward(x)

    def max_pool_forward_fast(x, pool_param):
        return loops.max_pool_forward_fast(x, pool_param)

    def max_pool_backward_fast(dout, cache):
        return loops.max_pool_backward_fast(dout, cache)

    from cs231n_student import rnn_step_forward, rnn_step_backward, lstm_step_forward, lstm_step_backward
    from cs231n_student import torch_style

    def lstm_forward(x, h0, Wx, Wh, b):  # PyTorch's gate order
        return torch_style.lstm_forward(x, h0, Wx, Wh, b)

    def lstm_backward(dh, cache):
        return torch_style.lstm_backward(dh, cache)

    from cs231n_student import affine_forward, affine_backward as _affine_backward

    def affine_backward(dout, cache):  # float32 whatever it is given
        return tuple(g.astype(np.float32) for g in _affine_backward(dout, cache))
    """
)


@pytest.fixture
def layers_py(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text(LAYERS_PY.format(tests=str(Path(__file__).parent)))
    return path


def run(args, capsys):
    out = io.StringIO()  # given: the command runs in this process, not in a forked child
    code = main(args, out=out)
    return code, out.getvalue(), capsys.readouterr().err


def test_cli_a_correct_layer_exits_0(layers_py, capsys):
    code, out, err = run(["check", f"{layers_py}:batchnorm_backward", "--kind", "batchnorm"], capsys)
    assert code == 0 and "your batchnorm agrees with torch and jax and finite differences" in out
    code, out, _ = run(["check", f"{layers_py}:batchnorm_backward_alt", "--kind", "batchnorm_alt"], capsys)
    assert code == 0
    code, out, err = run(["check", f"{layers_py}:relu_backward", "--kind", "relu"], capsys)
    assert code == 0 and "debugging" in err and "debugging" not in out


def test_cli_finds_a_conv_and_a_fast_pool_by_their_names(layers_py, capsys):
    code, out, _ = run(["check", f"{layers_py}:conv_backward_naive", "--kind", "conv"], capsys)
    assert code == 0 and "check_layer: " in out and "conv_backward_naive: conv" in out
    code, out, _ = run(["check", f"{layers_py}:max_pool_backward_fast", "--kind", "max_pool"], capsys)
    assert code == 0 and "your max_pool agrees" in out
    code, out, _ = run(
        ["check", f"{layers_py}:conv_backward_flipped", "--kind", "conv", "--forward", "conv_forward_naive"],
        capsys,
    )
    assert code == 1 and "dw with the kernel flipped" in out


def test_cli_finds_the_step_kinds_by_their_names_and_takes_the_gate_order(layers_py, capsys):
    code, out, _ = run(["check", f"{layers_py}:rnn_step_backward", "--kind", "rnn_step"], capsys)
    assert code == 0 and "your rnn_step agrees" in out
    code, out, _ = run(["check", f"{layers_py}:lstm_step_backward", "--kind", "lstm_step"], capsys)
    assert code == 0 and "your lstm_step agrees" in out
    # PyTorch's gate order: named as the other order by default, agreeing with --gate-order ifgo
    code, out, _ = run(["check", f"{layers_py}:lstm_backward", "--kind", "lstm"], capsys)
    assert code == 1 and "the gates' blocks read in the other order" in out
    code, out, _ = run(
        ["check", f"{layers_py}:lstm_backward", "--kind", "lstm", "--gate-order", "ifgo"], capsys
    )
    assert code == 0
    args = ["check", f"{layers_py}:rnn_step_backward", "--kind", "rnn_step", "--gate-order", "ifgo"]
    code, _, err = run(args, capsys)
    assert code == 2 and "--gate-order goes with --kind lstm or lstm_step" in err


def test_cli_checks_a_layer_in_float32_with_dtype(layers_py, capsys):
    args = ["check", f"{layers_py}:affine_backward", "--kind", "affine"]
    code, out, _ = run(args, capsys)  # float32 gradients of float64 inputs: judged to float32, said
    assert code == 1 and "--dtype float32" in out and "net" not in out
    code, out, err = run(args + ["--dtype", "float32"], capsys)
    assert code == 0, err
    assert "(drawn), float32" in out


def test_cli_a_layer_without_kind_is_hinted_the_kind(layers_py, capsys):
    code, _, err = run(["check", f"{layers_py}:batchnorm_backward"], capsys)
    assert code == 2 and "your function needs a net" in err
    assert "a CS231n layer? --kind batchnorm" in err, err
    code, _, err = run(["check", f"{layers_py}:softmax_loss"], capsys)
    assert code == 2 and "--kind softmax_loss" in err, err
    code, _, err = run(["check", f"{layers_py}:relu_forward"], capsys)  # no layer's backward by its name
    assert code == 2 and "--kind" not in err, err


def test_cli_a_mistake_exits_1_and_names_it(layers_py, capsys):
    args = ["check", f"{layers_py}:batchnorm_backward_swapped", "--kind", "batchnorm"]
    code, out, err = run(args + ["--forward", "batchnorm_forward", "--json"], capsys)
    assert code == 1
    data = json.loads(out)
    assert [e["mistake"] for e in data["diagnosis"]["explained_by"]] == ["bn-swapped"]


def test_cli_errors_exit_2(layers_py, capsys):
    code, _, err = run(["check", f"{layers_py}:batchnorm_backward_swapped", "--kind", "batchnorm"], capsys)
    assert code == 2 and "no function 'batchnorm_forward_swapped'" in err and "--forward NAME" in err
    code, _, err = run(["check", f"{layers_py}:relu_backward_broken", "--kind", "relu"], capsys)
    assert code == 2 and "raised RuntimeError: my bug" in err
    code, _, err = run(["check", f"{layers_py}:relu_backward", "--kind", "relu", "--sizes", "2,2"], capsys)
    assert code == 2 and "drop --sizes" in err
    code, _, err = run(
        ["check", f"{layers_py}:softmax_loss", "--kind", "softmax_loss", "--forward", "x"], capsys
    )
    assert code == 2 and "drop --forward" in err
    code, _, err = run(["check", f"{layers_py}:relu_backward", "--forward", "relu_forward"], capsys)
    assert code == 2 and "--forward goes with --kind" in err


def test_cli_a_layer_that_ends_the_process_exits_2(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text(
        "import os\nimport numpy as np\n"
        "def tanh_forward(x):\n    return np.tanh(x), x\n"
        "def tanh_backward(dout, cache):\n    os._exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "crosscheck", "check", f"{path}:tanh_backward", "--kind", "tanh"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 2 and "ended the process" in done.stderr and done.stdout == ""


# ------------------------------------------------------------------ the kill table


def kill_table():
    """kind -> [(mistake key, named?)], each mistake planted in the vectorized student."""
    table = {}
    for (kind, key), (forward, backward) in student.PLANTED.items():
        report = check_layer(forward, backward, kind, *student.planted_inputs(kind, key))
        table.setdefault(kind, []).append((key, report.explained_by == [expected_key(key)]))
    return table


if __name__ == "__main__":  # prints the kill table for docs/check.md
    for kind, rows in kill_table().items():
        named = sum(ok for _, ok in rows)
        print(f"| {kind} | {', '.join(k for k, _ in rows)} | {named} / {len(rows)} |")


def test_cli_takes_the_forward_from_the_file_named_not_from_where_the_backward_came(tmp_path, capsys):
    """The file imports a correct backward and defines its own forward, wrong (doubled): that
    forward is the one checked, not the backward's module's correct one."""
    path = tmp_path / "mine.py"
    path.write_text(
        f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from cs231n_student import batchnorm_backward, batchnorm_forward as _right\n\n"
        "def batchnorm_forward(x, gamma, beta, bn_param):\n"
        "    out, cache = _right(x, gamma, beta, bn_param)\n"
        "    return 2 * out, cache\n"
    )
    code, out, _ = run(["check", f"{path}:batchnorm_backward", "--kind", "batchnorm"], capsys)
    assert code == 1 and "forward" in out
