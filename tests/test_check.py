"""Checking anyone's backprop: a student's hand-written backprop (tests/student.py,
one sample at a time, W as (n_out, n_in)) in every layout people write, correct
(never flagged) and with each mistake of the catalogue made on purpose (named,
at its layer); the seeds' own code; the pytest assertion; the picture."""

import itertools

import numpy as np
import pytest
import student

import manual
from crosscheck import assert_backprop_matches, backends, check, check_training, mistakes, seed_code
from crosscheck.cli import check_drawing
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
    assert report.findings == [] and report.first_layer is None
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


@pytest.mark.parametrize("name,key,layer", MADE, ids=[f"{n}-{k}-layer{l}" for n, k, l in MADE])
def test_each_mistake_is_named_at_its_layer(name, key, layer, frameworks):
    net = NETS[name]()
    x, y = make_data(net, 4, seed=2)
    report = check(student.function(net, Layout(weights="out_in"), key, layer), net, x, y, "torch")
    assert not report.ok, f"{key} at layer {layer} went unnoticed:\n{report.text()}"
    assert report.findings, report.text()
    for finding in report.findings:
        assert (key, layer) in [(k, l) for k, l, _ in finding.explanations], report.text()


def test_the_diagnosis_reads_like_the_issue_for_seed_001(frameworks):
    code = seed_code.seed001()
    report = check(code.fn, code.net, code.x, code.y, code.layout)
    assert not report.ok and report.first_layer == 1
    (finding,) = report.findings
    assert finding.sentence() == (
        "W1 differs by 4.005x; it equals the gradient with σ′(z₂) dropped at the output layer"
    )
    assert [row.ok for row in report.rows if row.param == "W2"] == [True, True, True]


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


def test_what_no_mistake_explains_is_described(frameworks):
    net = small_net()
    x, y = make_data(net, 3, seed=4)
    fn = student.function(net, Layout())

    def off_in_one_entry(params, x, y):
        loss, grads = fn(params, x, y)
        grads[0]["W"] = grads[0]["W"].copy()
        grads[0]["W"][1, 2] += 0.5
        return loss, grads

    report = check(off_in_one_entry, net, x, y)
    (finding,) = report.findings
    assert (
        finding.sentence() == "W1 differs in 1 of 12 entries: (1, 2), by no common factor; no mistake in the "
        "catalogue explains it"
    )


# ------------------------------------------------------------------ training steps


def test_a_step_that_updates_before_backprop_is_named(frameworks):
    net = manual.MLP([2, 3, 1], activation="sigmoid", loss="mse", init="xavier", seed=2)
    x, y = make_data(net, 4, seed=3)
    step = student.step_function(net, Layout(), "update-before-backprop", 2)
    report = check_training(step, net, x, y, lr=0.5, steps=5)
    assert not report.ok and {r.first_step for r in report.rows} == {1}
    assert [f.param for f in report.findings] == ["W1", "b1"]
    for f in report.findings:
        assert ("update-before-backprop", 2) in [(k, l) for k, l, _ in f.explanations], report.text()


def test_a_steps_gradient_mistake_is_read_off_its_update(frameworks):
    net = manual.MLP([2, 3, 1], activation="sigmoid", loss="mse", init="xavier", seed=2)
    x, y = make_data(net, 4, seed=3)
    report = check_training(
        student.step_function(net, Layout(), "hidden-derivative-dropped", 1), net, x, y, lr=0.5, steps=5
    )
    assert not report.ok
    assert all(
        ("hidden-derivative-dropped", 1) in [(k, l) for k, l, _ in f.explanations] for f in report.findings
    )


# ------------------------------------------------------------------ in a pytest suite


def test_assert_backprop_matches_raises_with_the_report(frameworks):
    code = seed_code.seed001()
    with pytest.raises(AssertionError) as info:
        assert_backprop_matches(code.fn, code.net, code.x, code.y, code.layout)
    assert "W1 differs by 4.005x" in str(info.value) and "FAIL" in str(info.value)
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


def test_a_net_as_plain_data_is_accepted(frameworks):
    net = small_net()
    x, y = make_data(net, 3)
    report = check(student.function(net, Layout()), (net.spec(), net.params), x, y)
    assert report.ok and report.net.spec() == net.spec()


# ------------------------------------------------------------------ the picture


def test_the_drawing_marks_exactly_the_entries_the_report_finds_wrong(frameworks):
    net = NETS["sigmoid-mse-sum"]()
    x, y = make_data(net, 4, seed=2)
    report = check(student.function(net, Layout(), "hidden-derivative-dropped", 2), net, x, y)
    drawing = check_drawing(report)
    marked = drawing.differing_edges()
    wrong = {(l, i, j) for l in (1, 2, 3) for i, j in zip(*np.nonzero(report.differs(f"W{l}")))}
    assert marked == wrong and wrong and all(l <= 2 for l, _, _ in wrong)  # layer 3's W is right
    assert {(u.layer, u.index) for u in drawing.units if u.differs} == {
        (l, int(i)) for l in (1, 2, 3) for i in np.nonzero(report.differs(f"b{l}"))[0]
    }
    assert "σ′(z₂) dropped in layer 2" in drawing.caption
