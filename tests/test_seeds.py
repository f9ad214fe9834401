"""The three seeds, reproduced. Expected values are the seeds' printed numbers
(to the digits printed), hand algebra, finite differences, or the seeds' own
code run here verbatim; where a seed is wrong, the right number is asserted.
"""

import math

import numpy as np
import pytest

import manual
from manual import examples
from manual.gradcheck import numeric_grads


def sig(v):
    return 1 / (1 + math.exp(-v))


def printed(value, decimals):
    """Half a unit of the last printed digit."""
    return pytest.approx(value, abs=0.5 * 10.0**-decimals)


# ------------------------------------------------------------------ seed 001


def seed001_by_hand():
    """Seed 001's net (x=1, y=0, w1=[.5, -.5], w2=[.3, -.3]) worked out with
    scalars and the chain rule, every factor included."""
    x, y = 1.0, 0.0
    w1, w2 = [0.5, -0.5], [0.3, -0.3]
    h = [sig(w * x) for w in w1]
    z2 = w2[0] * h[0] + w2[1] * h[1]
    yhat = sig(z2)
    loss = 0.5 * (yhat - y) ** 2
    dL_dz2 = (yhat - y) * yhat * (1 - yhat)
    dw2 = [dL_dz2 * hj for hj in h]
    dw1 = [dL_dz2 * w2[j] * h[j] * (1 - h[j]) * x for j in range(2)]
    return loss, dw1, dw2, yhat * (1 - yhat)


def test_seed001_loss_is_right_to_the_last_printed_digit():
    ex = examples.seed001()
    loss = ex.net.loss(ex.x, ex.y)
    # printed as a full float repr: agree to a few ulps
    assert loss == pytest.approx(0.13434887664395717, rel=4 * np.finfo(float).eps)
    assert loss == pytest.approx(seed001_by_hand()[0], rel=1e-15)


def test_seed001_w2_gradient_is_right_to_8_decimals():
    ex = examples.seed001()
    _, grads = ex.net.loss_and_grads(ex.x, ex.y)
    assert grads[1]["W"].ravel() == printed([0.08055583, 0.04885958], 8)
    assert grads[1]["W"].ravel() == pytest.approx(seed001_by_hand()[2], rel=1e-14)


def test_seed001_w1_gradient_printed_by_the_seed_is_wrong():
    ex = examples.seed001()
    _, grads = ex.net.loss_and_grads(ex.x, ex.y)
    dw1 = grads[0]["W"].ravel()
    _, true_dw1, _, dy_dz2 = seed001_by_hand()
    seed_printed = np.array([0.036545, -0.036545])

    # the engine gives the chain rule's answer ...
    assert dw1 == pytest.approx(true_dw1, rel=1e-14)
    assert dw1 == printed([0.00912393, -0.00912393], 8)
    # ... which finite differences confirm ...
    assert dw1 == pytest.approx(numeric_grads(ex.net, ex.x, ex.y)[0]["W"].ravel(), rel=1e-8)
    # ... and the seed's number is off by exactly the factor it drops, dy/dz2 = sigma'(z2)
    assert abs(dw1 - seed_printed).max() > 0.02
    assert seed_printed * dy_dz2 == printed(dw1, 6)
    assert seed_printed[0] / dw1[0] == pytest.approx(4.0054, abs=5e-5)


def test_seed001_code_as_written_reproduces_the_wrong_number():
    """Run the seed's own backward pass, verbatim, to pin down where it goes wrong."""
    x = np.array([[1.0]])
    y_true = np.array([[0.0]])
    w1 = np.array([[0.5, -0.5]])
    w2 = np.array([[0.3], [-0.3]])
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731 - the seed's expit
    sigmoid_derivative = lambda v: sigmoid(v) * (1 - sigmoid(v))  # noqa: E731
    z1 = x @ w1
    a1 = sigmoid(z1)
    z2 = a1 @ w2
    y_pred = sigmoid(z2)
    dL_dy = y_pred - y_true
    da1_dz1 = sigmoid_derivative(z1)
    dL_dw1 = x.T.T @ ((dL_dy @ w2.T) * da1_dz1)  # the seed's line: dy_dz2 never enters
    assert dL_dw1.ravel() == printed([0.036545, -0.036545], 6)


# ------------------------------------------------------------------ seed 002


SEED002_PRINTED = {
    # name: (value as printed, decimals)
    "z1": ([0.1, 0.3], 4),
    "a1": ([0.525, 0.5744], 4),
    "z2": (0.6072, 4),
    "yhat": (0.6473, 4),
    "loss": (0.435, 4),
    "d2": (-0.3527, 4),
    "dW2": ([-0.1852, -0.2026], 4),
    "d1": ([-0.044, -0.0517], 4),
    # the seed's layout: rows are hidden units, so the engine's dW1 transposed
    "dW1": ([[-0.044, -0.0], [-0.0517, -0.0]], 4),
    "analytic dW2": ([-0.185165, -0.202611], 6),
}


def seed002_engine_numbers():
    ex = examples.seed002()
    t = ex.net.trace(ex.x, ex.y)
    h, out = t.layers
    return {
        "z1": h.z.ravel(), "a1": h.a.ravel(), "z2": out.z.item(), "yhat": out.a.item(),
        "loss": t.loss, "d2": out.delta.item(), "dW2": out.dW.ravel(), "d1": h.delta.ravel(),
        "dW1": h.dW.T, "analytic dW2": out.dW.ravel(),
    }


@pytest.mark.parametrize("name", list(SEED002_PRINTED))
def test_seed002_every_printed_number(name):
    value, decimals = SEED002_PRINTED[name]
    got = seed002_engine_numbers()[name]
    assert np.asarray(got) == printed(np.asarray(value), decimals)


def test_seed002_by_hand_to_full_precision():
    W1 = [[0.1, 0.2], [0.3, 0.4]]  # rows = hidden units
    W2 = [0.5, 0.6]
    x, y = [1.0, 0.0], 1.0
    z1 = [W1[j][0] * x[0] + W1[j][1] * x[1] for j in range(2)]
    a1 = [sig(v) for v in z1]
    yhat = sig(W2[0] * a1[0] + W2[1] * a1[1])
    loss = -(y * math.log(yhat) + (1 - y) * math.log(1 - yhat))
    d2 = yhat - y
    d1 = [W2[j] * d2 * a1[j] * (1 - a1[j]) for j in range(2)]
    got = seed002_engine_numbers()
    assert got["loss"] == pytest.approx(loss, rel=1e-15)
    assert got["d2"] == pytest.approx(d2, rel=1e-15)
    assert got["dW2"] == pytest.approx([d2 * a for a in a1], rel=1e-15)
    assert got["d1"] == pytest.approx(d1, rel=1e-14)
    assert got["dW1"] == pytest.approx(np.array([[d1[0] * x[0], d1[0] * x[1]], [d1[1] * x[0], d1[1] * x[1]]]), rel=1e-14)


def test_seed002_finite_differences_agree_on_every_parameter():
    ex = examples.seed002()
    result = manual.gradcheck(ex.net, ex.x, ex.y)
    assert result.ok, result.report()
    num = numeric_grads(ex.net, ex.x, ex.y)
    assert num[1]["W"].ravel() == printed([-0.185165, -0.202611], 6)  # the seed's "numeric dW2"


def test_seed002_claims_are_all_ok_and_seed001_flags_exactly_one():
    assert all(c.ok for c in examples.seed002().claims)
    wrong = [c.name for c in examples.seed001().claims if not c.ok]
    assert wrong == ["Gradient for w1 (input to hidden)"]


# ------------------------------------------------------------------ seed 000


def run_seed000_code(x, y, random_seed, epochs=examples.SEED000_EPOCHS):
    """Seed 000's program, verbatim, with np.random.seed added so it repeats.
    Returns the final params and the a2 it prints."""
    rs = np.random.RandomState(random_seed)

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    def sigmoid_derivative(v):
        return v * (1 - v)

    W1 = rs.rand(2, 2)
    b1 = rs.rand(1, 2)
    W2 = rs.rand(2, 1)
    b2 = rs.rand(1, 1)
    eta = 0.1
    for _ in range(epochs):
        z1 = np.dot(x, W1) + b1
        a1 = sigmoid(z1)
        z2 = np.dot(a1, W2) + b2
        a2 = sigmoid(z2)
        delta2 = (a2 - y) * sigmoid_derivative(a2)
        delta1 = np.dot(delta2, W2.T) * sigmoid_derivative(a1)
        W2 -= eta * np.dot(a1.T, delta2)
        b2 -= eta * np.sum(delta2, axis=0, keepdims=True)
        W1 -= eta * np.dot(x.T, delta1)
        b1 -= eta * np.sum(delta1, axis=0, keepdims=True)
    return [{"W": W1, "b": b1.ravel()}, {"W": W2, "b": b2.ravel()}], a2


@pytest.mark.parametrize("data", ["as_written", "xor"])
def test_seed000_training_matches_the_seeds_own_loop(data):
    ex = examples.seed000(data)
    expected, printed_a2 = run_seed000_code(ex.x, ex.y, examples.SEED000_RANDOM_SEED)
    hist = examples.train_seed000(ex)
    for got, want in zip(hist.params, expected):
        for k in ("W", "b"):
            np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12)
    # the seed prints a2 from the last forward pass, before that epoch's update:
    # it is the output one step before the trained net's
    before_last = manual.MLP.from_params(manual.train(ex.net, ex.x, ex.y, manual.SGD(lr=0.1),
                                                      epochs=examples.SEED000_EPOCHS - 1).params)
    np.testing.assert_allclose(before_last.forward(ex.x), printed_a2, rtol=1e-10)
    gap = np.abs(hist.net.forward(ex.x) - printed_a2).max()
    assert 1e-8 < gap < 1e-3


@pytest.mark.parametrize("data", ["as_written", "xor"])
def test_seed000_learns_its_targets(data):
    ex = examples.seed000(data)
    out = examples.train_seed000(ex).net.forward(ex.x)
    np.testing.assert_array_equal(out > 0.5, ex.y > 0.5)
    assert np.abs(out - ex.y).max() < 0.1


def test_seed000_data_as_written_is_not_xor_but_linearly_separable():
    x, y = examples.SEED000_X, examples.SEED000_Y.ravel()
    # the fourth sample is (-1, 1); XOR's is (1, 1)
    assert x[3].tolist() == [-1, 1] and examples.XOR_X[3].tolist() == [1, 1]
    # the line x1 + x2 = 0.5 separates the seed's data: hand algebra, no training
    assert ((x[:, 0] + x[:, 1] - 0.5 > 0) == (y == 1)).all()
    # and so a net without a hidden layer learns it
    net = manual.MLP.from_params([{"W": [[0.0], [0.0]], "b": [0.0]}])
    out = manual.train(net, x, y[:, None], manual.SGD(lr=0.5), epochs=2000).net.forward(x)
    np.testing.assert_array_equal(out.ravel() > 0.5, y == 1)
