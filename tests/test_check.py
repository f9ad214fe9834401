"""Checking anyone's backprop: a student's hand-written backprop (tests/student.py,
one sample at a time, W as (n_out, n_in)) in every layout people write, correct
(never flagged) and with each mistake of the catalogue made on purpose (named,
at its layer, and only where it explains every gradient); what no mistake
explains, said as it is; precision, NaN, the loss as evidence, data that cannot
show a mistake; the seeds' own code; the pytest assertion; the picture."""

import itertools
import re
import sys

import numpy as np
import pytest
import student

import manual
from crosscheck import (
    assert_backprop_matches,
    backends,
    check,
    check_training,
    diagnosis,
    mistakes,
    seed_code,
)
from crosscheck.check import check_drawing, draw_data
from crosscheck.errors import UserCodeError
from crosscheck.layouts import CHOICES, Layout, LayoutError
from crosscheck.testing import assert_grads_close

from conftest import require
from helpers import make_data

LAYOUTS = [Layout(*combo) for combo in itertools.product(*CHOICES.values())]


def small_net():
    return manual.MLP(
        [3, 4, 2], activation="tanh", output_activation="sigmoid", loss="mse", init="xavier", seed=3
    )


@pytest.fixture(scope="module")
def frameworks():
    require("torch", "jax")


@pytest.mark.parametrize("layout", LAYOUTS, ids=[lay.describe().replace(", ", "/") for lay in LAYOUTS])
def test_a_correct_function_in_any_layout_is_not_flagged(layout, frameworks):
    net = small_net()
    x, y = make_data(net, 5, seed=1)
    report = check(student.function(net, layout), net, x, y, layout)
    assert report.ok, report.text()
    assert report.findings == [] and report.first_layer is None and report.explained_by == []
    assert list(report.truths) == ["torch", "jax", "finite differences"]


# ------------------------------------------------------------------ the catalogue, made on purpose

NETS = {
    # two sigmoid hidden layers, the second square: every derivative and transpose mistake
    "sigmoid-mse-sum": lambda: manual.MLP(
        [3, 4, 4, 2], activation="sigmoid", loss="mse", init="xavier", seed=5
    ),
    # fused output, mean, square first layer whose width is the input's
    "tanh-bce-mean": lambda: manual.MLP(
        [3, 3, 2],
        activation="tanh",
        output_activation="sigmoid",
        loss="bce",
        reduction="mean",
        init="xavier",
        seed=6,
    ),
    "relu-softmax-mse-mean": lambda: manual.MLP(
        [2, 3, 3],
        activation="relu",
        output_activation="softmax",
        loss="mse",
        reduction="mean",
        init="xavier",
        seed=7,
    ),
    "tanh-cross_entropy-sum": lambda: manual.MLP(
        [2, 3, 3], activation="tanh", output_activation="softmax", loss="cross_entropy", init="xavier", seed=8
    ),
}
MADE = [(name, m.key, l) for name, make in NETS.items() for m, l in mistakes.applicable(make())]


def test_every_mistake_of_the_catalogue_is_made_on_some_net():
    assert {key for _, key, _ in MADE} == {m.key for m in mistakes.CATALOGUE}
    assert len(MADE) == 69


@pytest.mark.parametrize("name,key,layer", MADE, ids=[f"{n}-{k}-layer{l}" for n, k, l in MADE])
def test_each_mistake_is_named_at_its_layer_and_explains_every_value(name, key, layer, frameworks):
    net = NETS[name]()
    x, y = make_data(net, 4, seed=2)
    fn = student.function(net, Layout(weights="out_in"), key, layer)
    report = check(fn, net, x, y, "torch")
    assert not report.ok, f"{key} at layer {layer} went unnoticed:\n{report.text()}"
    assert report.diagnosis.verdict == "explained" and (key, layer) in report.explained_by, report.text()
    # the joint rule, from outside: each named mistake reproduces the user's loss and every gradient
    loss, grads = fn(Layout(weights="out_in").params_to_user(net.params), x, y)
    for named, at in report.explained_by:
        value, theirs = mistakes.gradients(net, x, y, named, at)
        assert abs(value - loss) <= 1e-9 * abs(loss)
        for l, layer_grads in enumerate(theirs):
            for k, v in layer_grads.items():
                mine = grads[l][k].T if k == "W" else grads[l][k]
                assert np.abs(mine - v).max() <= 1e-6 * max(np.abs(v).max(), 1e-300), (named, at, k, l)


def test_the_diagnosis_reads_like_the_issue_for_seed_001(frameworks):
    code = seed_code.seed001()
    report = check(code.fn, code.net, code.x, code.y, code.layout)
    assert not report.ok and report.first_layer == 1
    assert report.findings == [
        "only W1 differs by 4.005x in every entry; the loss and W2 agree",
        "one mistake of the catalogue gives exactly these values: σ′(z₂) left out of the delta sent back "
        "from the output layer to layer 1 (dW₂ keeps it)",
    ]
    assert [row.ok for row in report.rows if row.param == "W2"] == [True, True, True]
    # seed 001's batch of one cannot tell a sum from a mean: said, with the cure
    (note,) = [n for n in report.notes if "could not have seen" in n]
    assert "the gradient divided by the batch size where the loss sums" in note
    assert note.endswith("(leave the data out and the check draws data that shows them)")


def test_the_seeds_other_code_agrees(frameworks):
    code = seed_code.seed002()
    report = check(code.fn, code.net, code.x, code.y, code.layout)
    assert report.ok, report.text()
    code = seed_code.seed000(steps=300)
    training = check_training(code.fn, code.net, code.x, code.y, code.lr, code.steps, code.layout)
    assert training.ok and [r.first_step for r in training.rows] == [None, None], training.text()
    assert max(r.worst_gap for r in training.rows) < 1e-9


@pytest.mark.parametrize(
    "output, loss, l2",
    [
        ("sigmoid", "mse", 0.0),
        ("sigmoid", "bce", 0.0),
        ("softmax", "cross_entropy", 0.0),
        ("softmax", "cross_entropy", 0.4),
    ],
)
def test_the_catalogues_correct_gradient_is_the_frameworks(output, loss, l2, frameworks):
    """crosscheck.mistakes computes the gradients it plants mistakes in: without a
    mistake, its loss and gradients are PyTorch's (the loss from the logits, l2 included)."""
    net = manual.MLP([3, 4, 3], activation="tanh", output_activation=output, loss=loss,
                     reduction="mean", init="xavier", seed=1, l2=l2)  # fmt: skip
    x, y = make_data(net, 5, seed=2)
    value, grads = mistakes.gradients(net, x, y)
    truth = backends.loss_and_grads("torch", net, x, y)
    assert_grads_close(net, x, y, truth, (value, grads), names=("torch", "crosscheck.mistakes"))


# ------------------------------------------------------------------ what the catalogue does not explain


def _altered(net, change):
    fn = student.function(net, Layout())

    def altered(params, x, y):
        loss, grads = fn(params, x, y)
        return change(loss, [{k: np.array(v) for k, v in g.items()} for g in grads])

    return altered


def _scale_w1(loss, g):
    g[0]["W"] *= 0.5
    return loss, g


def _negate_b2(loss, g):
    g[1]["b"] *= -1
    return loss, g


def _one_entry(loss, g):
    g[0]["W"][1, 2] += 0.5
    return loss, g


@pytest.mark.parametrize(
    "change, sentences",
    [
        (
            _scale_w1,
            [
                "only W1 differs by 0.5x in every entry; the loss, W2, b2 and b1 agree",
                "no single mistake of the catalogue gives this W1; the ½ of mse applied twice in the "
                "gradient (∂L/∂a = ½(a − y)) gives this W1, but would change W2, b2 and b1 too",
            ],
        ),
        (
            _negate_b2,
            [
                "only b2 has the opposite sign in every entry; the loss, W2, W1 and b1 agree",
                "no single mistake of the catalogue gives this b2; the sign of ŷ − y flipped (y − ŷ) in the "
                "output delta gives this b2, but would change W2, W1 and b1 too",
            ],
        ),
        (
            _one_entry,
            [
                "only W1 differs in 1 of 12 entries: (1, 2), by no common factor; the loss, W2, b2 and b1 "
                "agree",
                "no single mistake of the catalogue gives this W1",
            ],
        ),
    ],
    ids=["dW1-halved", "db2-negated", "one-entry"],
)
def test_a_mistake_is_never_named_for_part_of_the_gradients(change, sentences, frameworks):
    net = small_net()
    x, y = make_data(net, 5, seed=1)
    report = check(_altered(net, change), net, x, y)
    assert report.diagnosis.verdict == "unexplained" and report.explained_by == []
    assert report.findings == sentences


def _torch_layout_one_entry(net):
    """W as (n_out, n_in), as nn.Linear has it, and dW1[2, 1] of that array off."""
    layout = Layout(weights="out_in")
    fn = student.function(net, layout)

    def altered(params, x, y):
        loss, grads = fn(params, x, y)
        grads = [{k: np.array(v) for k, v in g.items()} for g in grads]
        grads[0]["W"][2, 1] += 0.5
        return loss, grads

    return altered, layout


def test_an_entry_is_shown_where_the_users_array_has_it(frameworks):
    net = small_net()
    x, y = make_data(net, 5, seed=1)
    fn, layout = _torch_layout_one_entry(net)
    report = check(fn, net, x, y, layout)
    assert report.findings[0].startswith("only W1 differs in 1 of 12 entries: (2, 1), by no common factor")


def _nudged(net, sign):
    """The output delta times ``sign``, and dW1's largest entry then moved by 1e-6 relative."""

    def change(loss, g):
        for layer in g:
            for k in layer:
                layer[k] *= sign
        W = g[0]["W"]
        W[np.unravel_index(np.abs(W).argmax(), W.shape)] *= 1 + 1e-6
        return loss, g

    return _altered(net, change)


def test_a_mistake_matched_only_to_the_catalogues_resolution_is_not_called_exact(frameworks):
    """A sign flip and, besides it, one entry off by 1e-6: the flip is named, but not as
    giving "exactly" these values, and what is left over is said."""
    net = small_net()
    x, y = make_data(net, 5, seed=1)
    report = check(_nudged(net, -1), net, x, y)
    (line,) = [f for f in report.findings if "one mistake of the catalogue" in f]
    assert "exactly" not in line
    assert line.startswith("one mistake of the catalogue gives these values to 1e-06 relative: the sign of")
    assert line.endswith(
        "W1 still differs from that mistake's by up to 1.0e-06 relative, more than rounding "
        "allows: a second, smaller difference"
    )


def test_one_entry_a_hair_off_is_not_blamed_on_float32(frameworks):
    net = small_net()
    x, y = make_data(net, 5, seed=1)
    report = check(_nudged(net, 1), net, x, y)
    assert report.diagnosis.verdict == "close" and not report.ok
    (line,) = report.findings
    assert "float32" not in line
    assert re.search(r"\(W1: 1 of 12 entries beyond rounding, at \(\d, \d\)\)$", line), line


def test_float32_gradients_for_a_float64_net_are_precision_not_a_mistake(frameworks):
    net = small_net()
    x, y = make_data(net, 5, seed=1)
    report = check(_altered(net, lambda loss, g: (loss, [{k: v.astype(np.float32) for k, v in d.items()}
                                                           for d in g])), net, x, y)  # fmt: skip
    assert not report.ok and report.diagnosis.verdict == "precision" and report.explained_by == []
    assert report.findings == [
        "your gradients came as float32 and agree with the truth to float32's precision; the net is float64: "
        "check with a float32 net (dtype=np.float32, --dtype float32), or return float64 arrays"
    ]
    net32 = net.with_params(net.params, np.float32)
    assert check(student.function(net, Layout()), net32, x.astype(np.float32), y.astype(np.float32)).ok


def test_a_mistake_in_float32_gradients_is_still_named(frameworks):
    net = small_net()
    x, y = make_data(net, 5, seed=1)
    fn = student.function(net, Layout(), "hidden-derivative-dropped", 1)

    def in_float32(params, x, y):
        loss, grads = fn(params, x, y)
        return loss, [{k: v.astype(np.float32) for k, v in g.items()} for g in grads]

    report = check(in_float32, net, x, y)
    assert report.explained_by == [("hidden-derivative-dropped", 1)]
    assert report.findings[-2] == (
        "your gradients came as float32: judged to float32's precision, the net being float64"
    )


@pytest.mark.parametrize("factor", [1 + 1e-7, 1 - 3e-9, 1.00049, 0.99951])
def test_a_factor_near_one_is_never_printed_as_1x(factor):
    text = diagnosis.describe_difference(np.array([1.0, 2.0]) * factor, np.array([1.0, 2.0]))
    assert "by 1x" not in text and "differs by 1." in text or "differs by 0.9" in text


def test_nan_is_named_as_such(frameworks):
    net = small_net()
    x, y = make_data(net, 5, seed=1)

    def nan_entry(loss, g):
        g[0]["W"][0, 1] = np.nan
        g[1]["b"][1] = -np.inf
        return loss, g

    report = check(_altered(net, nan_entry), net, x, y)
    assert report.diagnosis.verdict == "non-finite"
    assert report.findings == [
        "b2 has 1 -inf (of 2 entries) at (1,)",
        "W1 has 1 NaN (of 12 entries) at (0, 1)",
        "the loss, W2 and b1 agree with the truth",
        "no mistake is named from non-finite values: find where they arise first",
    ]
    assert "nan" in report.text() and "inf inf inf" not in report.text()
    report = check(_altered(net, lambda loss, g: (float("nan"), g)), net, x, y)
    assert report.findings[0] == "your loss is nan"


def test_a_log_guard_in_the_loss_is_a_note_not_a_failure(frameworks):
    net = manual.MLP(
        [3, 4, 2], activation="tanh", output_activation="sigmoid", loss="bce", init="xavier", seed=1
    )
    x, y = make_data(net, 6, seed=0)

    def guarded(params, x, y):
        (W1, b1), (W2, b2) = ((p["W"], p["b"]) for p in params)
        a1 = np.tanh(x @ W1 + b1)
        a2 = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
        loss = -np.sum(y * np.log(a2 + 1e-12) + (1 - y) * np.log(1 - a2 + 1e-12))
        d2 = a2 - y
        d1 = (d2 @ W2.T) * (1 - a1**2)
        return loss, [{"W": x.T @ d1, "b": d1.sum(0)}, {"W": a1.T @ d2, "b": d2.sum(0)}]

    report = check(guarded, net, x, y)
    assert report.ok, report.text()
    assert {r.verdict for r in report.rows if r.param == "loss"} == {"NOTE"}
    assert any(
        n.startswith("your loss differs from the truth by ") and "within 1e-06" in n for n in report.notes
    )


def test_a_loss_averaged_over_the_samples_only_is_told_by_the_loss(frameworks):
    """mse with reduction='mean' divides by batch x outputs (PyTorch's rule); a user who
    divides by the batch only has the loss and every gradient 3x off: the loss says which."""
    net = NETS["relu-softmax-mse-mean"]()
    x, y = make_data(net, 4, seed=2)
    fn = student.function(net, Layout(), "loss-mean-over-samples", 2)
    report = check(fn, net, x, y)
    assert report.findings[0] == (
        f"the loss is 3x the truth's (yours {report.loss:.10g}, the truth {report.truths['torch'][0]:.10g}); "
        "W2, b2, W1 and b1 differ by 3x in every entry"
    )
    assert report.explained_by == [("loss-mean-over-samples", 2)]
    assert (
        "divided by the batch (4) where the net's loss divides by batch × outputs (12)" in report.findings[1]
    )
    # the same gradients with the loss right: only the gradient is summed
    report = check(student.function(net, Layout(), "sum-for-mean", 2), net, x, y)
    assert report.explained_by == [("sum-for-mean", 2)]


def test_a_batch_of_one_says_what_it_cannot_see_and_drawn_data_sees_everything(frameworks):
    net = NETS["tanh-bce-mean"]()
    x, y = make_data(net, 1, seed=2)
    fn = student.function(net, Layout(), "bias-grad-averaged", 1)
    report = check(fn, net, x, y)
    assert report.ok  # a mean over one sample is that sample
    (note,) = [n for n in report.notes if "could not have seen" in n]
    assert (
        "db₁ averaged over the batch instead of summed" in note and "db₂ from the first sample only" in note
    )
    drawn = check(fn, net)
    assert drawn.drawn and len(drawn.x) == 5 and not drawn.ok
    assert drawn.explained_by == [("bias-grad-averaged", 1)]
    assert not drawn.diagnosis.unseen
    assert drawn.notes[0] == (
        "data: 5 samples drawn by the check (x ~ N(0, 1)), on which every mistake of the catalogue "
        "changes the gradients"
    )


@pytest.mark.parametrize("name", list(NETS))
def test_drawn_data_shows_every_mistake_of_the_catalogue(name):
    net = NETS[name]()
    x, y = draw_data(net)
    truth = mistakes.gradients(net, x, y)
    for m, l in mistakes.applicable(net):
        theirs = mistakes.gradients(net, x, y, m, l)
        assert any(
            np.abs(a[k] - b[k]).max() > 1e-6 * np.abs(a[k]).max()
            for a, b in zip(truth[1], theirs[1])
            for k in a
        ) or abs(truth[0] - theirs[0]) > 1e-6 * abs(truth[0]), (m.key, l)


# ------------------------------------------------------------------ the user's code, guarded


def test_what_the_users_function_raises_is_reported_as_its_own(frameworks):
    net = small_net()

    def broken(params, x, y):
        return params[5]

    with pytest.raises(UserCodeError) as info:
        check(broken, net)
    err = info.value
    assert err.kind == "raised" and str(err) == "broken raised IndexError: list index out of range"
    assert "return params[5]" in err.user_traceback and "crosscheck" not in err.user_traceback


def test_an_exit_inside_the_function_is_never_a_pass(frameworks):
    def exits(params, x, y):
        sys.exit(0)

    with pytest.raises(UserCodeError) as info:
        check(exits, small_net())
    assert info.value.kind == "exited" and str(info.value) == "exits called exit(0): nothing was checked"


def test_a_function_that_never_returns_is_stopped(frameworks):
    def hangs(params, x, y):
        while True:
            try:
                pass
            except Exception:
                pass

    with pytest.raises(UserCodeError) as info:
        check(hangs, small_net(), timeout=0.3)
    assert info.value.kind == "timed out"
    assert str(info.value).startswith("hangs did not return within 0.3 s")
    # from Python, the keyword (the command line's flag is --timeout, tested with the CLI)
    assert "timeout=SECONDS to change it" in str(info.value) and "--timeout" not in str(info.value)


def test_a_harness_error_is_not_worded_as_the_users(monkeypatch, frameworks):
    def harness_bug(*args):
        raise ZeroDivisionError("inside the harness")

    monkeypatch.setattr(backends, "loss_and_grads", harness_bug)
    with pytest.raises(ZeroDivisionError):
        check(student.function(small_net(), Layout()), small_net())


def test_prints_go_to_stderr_and_warnings_are_noted(capsys, frameworks):
    net = small_net()
    fn = student.function(net, Layout())

    def chatty(params, x, y):
        print("debugging: x is", x.shape)
        np.exp(np.array([1000.0]))  # overflows: a RuntimeWarning
        return fn(params, x, y)

    report = check(chatty, net)
    captured = capsys.readouterr()
    assert captured.out == "" and "debugging: x is (5, 3)" in captured.err
    assert (
        report.ok and report.notes[-1] == "your function warned: RuntimeWarning: overflow encountered in exp"
    )


def test_torch_tensors_that_require_grad_are_accepted(frameworks):
    import torch

    net = small_net()
    fn = student.function(net, Layout())

    def karpathy_style(params, x, y):
        loss, grads = fn(params, x, y)
        as_tensor = [{k: torch.tensor(v, requires_grad=True) * 1.0 for k, v in g.items()} for g in grads]
        return torch.tensor(loss, requires_grad=True), as_tensor

    report = check(karpathy_style, net)
    assert report.ok, report.text()


# ------------------------------------------------------------------ training steps


def test_a_step_that_updates_before_backprop_is_named(frameworks):
    net = manual.MLP([2, 3, 1], activation="sigmoid", loss="mse", init="xavier", seed=2)
    x, y = make_data(net, 4, seed=3)
    step = student.step_function(net, Layout(), "update-before-backprop", 2)
    report = check_training(step, net, x, y, lr=0.5, steps=5)
    assert not report.ok and {r.first_step for r in report.rows} == {1}
    assert report.explained_by == [("update-before-backprop", 2)], report.text()
    assert report.findings[0] == (
        "only W1's update and b1's update differ in every entry, by no common factor; "
        "W2's update and b2's update agree"
    )


def test_a_steps_gradient_mistake_is_read_off_its_update(frameworks):
    net = manual.MLP([2, 3, 1], activation="sigmoid", loss="mse", init="xavier", seed=2)
    x, y = make_data(net, 4, seed=3)
    step = student.step_function(net, Layout(), "hidden-derivative-dropped", 1)
    report = check_training(step, net, x, y, lr=0.5, steps=5)
    assert not report.ok and report.explained_by == [("hidden-derivative-dropped", 1)], report.text()
    assert "'s update" in report.text() and " 's update" not in report.text()


@pytest.mark.parametrize("steps", [-1, 0, 2.5, True])
def test_check_training_refuses_a_step_count_that_is_not_one_or_more(steps):
    net = small_net()
    x, y = make_data(net, 3)
    with pytest.raises(ValueError, match=r"steps: expected a whole number of steps >= 1, got"):
        check_training(student.step_function(net, Layout()), net, x, y, lr=0.1, steps=steps)


# ------------------------------------------------------------------ in a pytest suite


def test_assert_backprop_matches_raises_with_the_report(frameworks):
    code = seed_code.seed001()
    with pytest.raises(AssertionError) as info:
        assert_backprop_matches(code.fn, code.net, code.x, code.y, code.layout)
    assert "only W1 differs by 4.005x" in str(info.value) and "FAIL" in str(info.value)
    code = seed_code.seed002()
    assert assert_backprop_matches(code.fn, code.net, code.x, code.y, code.layout).ok


@pytest.mark.parametrize(
    "returned,fragment",
    [
        (
            lambda g: [g[0]["W"].T, g[1]["W"]],
            "grads: W1 has shape (2, 3), expected (3, 2): that is W in layout weights='out_in'",
        ),
        (
            lambda g: g,
            "container='flat' expects a list [W1, b1, W2, ...], got a list of dict: "
            "that is container='layers'",
        ),
        (lambda g: [g[0]["W"]], "expected 2 arrays (W1, W2), got 1"),
    ],
)
def test_shapes_that_fit_no_layout_say_which_would(returned, fragment):
    net = manual.MLP([3, 2, 2], bias=False, seed=0)
    x, y = make_data(net, 2)
    fn = student.function(net, Layout())

    def wrong(params, x, y):
        loss, grads = fn([{"W": p} for p in params], x, y)
        return loss, returned(grads)

    with pytest.raises(LayoutError) as info:
        check(wrong, net, x, y, container="flat")
    assert fragment in str(info.value)


def test_a_loss_per_sample_is_refused_with_its_shape():
    net = small_net()
    x, y = make_data(net, 3)
    fn = student.function(net, Layout())
    with pytest.raises(
        LayoutError, match=r"loss: expected a number or a one-element array, got ndarray of shape \(3,\)"
    ):
        check(lambda p, x, y: (np.ones(3), fn(p, x, y)[1]), net, x, y)


def test_a_net_as_plain_data_keeps_its_l2(frameworks):
    net = manual.MLP([2, 3, 1], seed=0, l2=0.5)
    x, y = make_data(net, 3)
    fn = student.function(net, Layout())

    def with_l2(params, x, y):
        loss, grads = fn(params, x, y)
        loss += 0.25 * sum((p["W"] ** 2).sum() for p in params)
        return loss, [{**g, "W": g["W"] + 0.5 * p["W"]} for g, p in zip(grads, params)]

    report = check(with_l2, (net.spec(), net.params), x, y)
    assert report.ok and report.net.spec() == net.spec(), report.text()


def test_the_nets_params_in_place_of_the_net_are_refused_clearly():
    net = small_net()
    with pytest.raises(TypeError, match=r"got a list of 2 dicts, which looks like net.params: pass the net"):
        check(student.function(net, Layout()), net.params, *make_data(net, 3))


# ------------------------------------------------------------------ the picture


def test_the_drawing_marks_exactly_the_entries_the_report_finds_wrong(frameworks):
    net = NETS["sigmoid-mse-sum"]()
    x, y = make_data(net, 4, seed=2)
    report = check(student.function(net, Layout(), "hidden-derivative-dropped", 2), net, x, y)
    picture = check_drawing(report)
    marked = picture.differing_edges()
    wrong = {(l + 1, i, j) for l in (0, 1, 2) for i, j in zip(*np.nonzero(report.differs(l, "W")))}
    assert marked == wrong and wrong and all(l <= 2 for l, _, _ in wrong)  # layer 3's W is right
    assert {(u.layer, u.index) for u in picture.units if u.differs} == {
        (l + 1, int(i)) for l in (0, 1, 2) for i in np.nonzero(report.differs(l, "b"))[0]
    }
    assert "σ′(z₂) left out of layer 2's delta" in picture.caption


# ------------------------------------------------------------------ what a review found (each failed first)


def test_a_float32_check_fails_a_gradient_ten_percent_off_even_where_rounding_is_loose(frameworks):
    """float32 sigmoids are accurate to ~1e-7 of 1, so summed over 60 samples the rounding
    allowance of dW1 is ~30% of its value: a check must still not pass W1 × 1.1."""
    net = manual.MLP([2, 3, 1], seed=2, init="xavier", dtype=np.float32)
    x, y = make_data(net, 60, seed=1)
    report = check(_altered(net, lambda loss, g: (loss, [{**g[0], "W": g[0]["W"] * 1.1}, g[1]])), net, x, y)
    assert not report.ok and report.decisive.diagnosis.off == ["W1"], report.text()
    assert report.findings[0] == "only W1 differs by 1.1x in every entry; the loss, W2, b2 and b1 agree"
    correct = check(student.function(net, Layout()), net, x, y)
    assert correct.ok, correct.text()
    assert any("a correct float32 implementation may be this far off" in n for n in correct.notes) or all(
        r.resolution <= 1e-3 for r in correct.resolutions
    )


def test_without_frameworks_the_loss_is_still_compared(monkeypatch):
    monkeypatch.setattr(backends, "available", lambda: [])
    net = small_net()
    x, y = make_data(net, 5, seed=1)
    report = check(_altered(net, lambda loss, g: (2 * loss, g)), net, x, y)
    assert not report.ok and list(report.truths) == ["the textbook backward pass", "finite differences"]
    assert "the loss is 2x the truth's" in report.text()
    good = check_training(student.step_function(net, Layout()), net, x, y, lr=0.1, steps=3)
    assert good.ok and [r.truth for r in good.rows] == ["manual (the engine's SGD)"]


def test_a_diverging_learning_rate_is_not_blamed_on_the_step(frameworks):
    net = manual.MLP([2, 8, 1], activation=["relu", "identity"], init="he", seed=0)
    x, y = np.array([[1.0, 2], [3, 4], [-2, 5], [4, -1]]), np.array([[10.0], [20], [30], [40]])
    report = check_training(student.step_function(net, Layout()), net, x, y, lr=1.0, steps=60)
    assert report.ok, report.text()
    assert any("own run is not finite from step" in n for n in report.notes)


def test_finite_differences_at_a_relu_kink_do_not_fail_a_function_the_frameworks_agree_with(frameworks):
    # z₁ = x W1 + b1 = 0 exactly: relu′ is 0 there for PyTorch and JAX; a central difference in
    # b1 sees half the slope of the right side, −0.5
    net = manual.MLP.from_params(
        [{"W": np.array([[1.0]]), "b": np.zeros(1)}, {"W": np.ones((1, 1)), "b": np.zeros(1)}],
        activation=["relu", "identity"],
    )
    x, y = np.array([[0.0]]), np.array([[1.0]])
    report = check(student.function(net, Layout()), net, x, y)
    assert report.ok, report.text()
    (note,) = [n for n in report.notes if n.startswith("finite differences disagree")]
    assert "a ReLU's input is exactly 0 on this data" in note


def test_data_on_which_the_truth_overflows_is_refused(frameworks):
    net = manual.MLP([2, 2, 1], activation=["relu", "identity"], init="he", seed=1)
    with pytest.raises(ValueError, match=r"not finite \(an overflow\): choose data and weights"):
        check(student.function(net, Layout()), net, np.array([[1e200, 1e200]]), np.array([[1.0]]))


def test_gradients_of_a_mistake_with_another_loss_are_said_as_such(frameworks):
    net = small_net()
    x, y = make_data(net, 5, seed=1)
    fn = student.function(net, Layout(), "sign-flipped", 2)
    report = check(_altered_fn(fn, lambda loss, g: (loss / 7, g)), net, x, y)
    assert report.findings[1].startswith(
        "one mistake of the catalogue gives exactly these gradients (not this loss): "
        "the sign of ŷ − y flipped"
    )
    assert "; the loss is not that mistake's: yours " in report.findings[1]


def _altered_fn(fn, change):
    def altered(params, x, y):
        return change(*fn(params, x, y))

    return altered


@pytest.mark.parametrize("timeout", [float("inf"), 1e11, 0, -1, True])
def test_a_timeout_out_of_range_is_refused(timeout):
    with pytest.raises(ValueError, match=r"timeout: expected a number of seconds in \(0, 1e\+06\]"):
        check(student.function(small_net(), Layout()), small_net(), timeout=timeout)


def test_a_tiny_timeout_stops_the_call_cleanly_and_a_callers_timer_is_put_back(frameworks):
    import signal

    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        with pytest.raises(UserCodeError) as info:
            check(lambda p, x, y: sum(range(10**8)), small_net(), timeout=1e-6)
        assert info.value.kind == "timed out"
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20 < remaining <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@pytest.mark.parametrize(
    "returned, fragment",
    [
        (lambda loss, g: (loss, g, None), "the function returned a tuple of 3 items; expected (loss, grads)"),
        (lambda loss, g: (np.array(True), g), "loss: expected a number, got ndarray of dtype bool"),
        (
            lambda loss, g: (loss, [{**g[0], "W": None}, g[1]]),
            "grads: W1 is None; expected an array of shape",
        ),
    ],
)
def test_what_a_function_returns_wrong_is_said_precisely(returned, fragment):
    net = small_net()
    fn = student.function(net, Layout())
    with pytest.raises(LayoutError) as info:
        check(lambda p, x, y: returned(*fn(p, x, y)), net)
    assert fragment in str(info.value)


def test_a_shape_error_in_the_users_code_names_the_layout_it_was_given():
    net = small_net()

    def wrong_layout(params, x, y):
        return x @ params[0]["W"].T, None  # written for nn.Linear's layout

    with pytest.raises(UserCodeError) as info:
        check(wrong_layout, net)
    assert "it was given W1 of shape (3, 4) and x of shape (5, 3), in the layout weights=in_out" in str(
        info.value
    )


def test_check_training_without_data_says_so():
    with pytest.raises(TypeError, match="check_training needs data: x and y"):
        check_training(student.step_function(small_net(), Layout()), small_net(), None, None, lr=0.1)


@pytest.mark.parametrize("layout", ["weights=out_in,weights=in_out", "", ","])
def test_a_layout_given_twice_or_empty_is_refused(layout):
    with pytest.raises(LayoutError):
        check(student.function(small_net(), Layout()), small_net(), layout=layout)


def test_sentences_about_the_loss_and_one_entry_read_right(frameworks):
    net = manual.MLP([2, 3, 1], seed=0, init="xavier")
    x, y = make_data(net, 4, seed=1)
    report = check(_altered(net, lambda loss, g: (loss * 0.3 + 0.1, g)), net, x, y)
    assert "gives this loss" in report.findings[-1] and "this the loss" not in report.text()
    report = check(
        _altered(net, lambda loss, g: (loss, [{k: -v for k, v in d.items()} for d in g])), net, x, y
    )
    assert report.findings[0] == "W2, b2, W1 and b1 have the opposite sign in every entry; the loss agrees"
    assert not report.findings[0].startswith("only")
    report = check(
        _altered(net, lambda loss, g: (loss, [g[0], {**g[1], "b": g[1]["b"] * np.nan}])), net, x, y
    )
    assert report.findings[0] == "b2 has 1 NaN (its only entry)"
