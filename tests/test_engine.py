"""The engine's API and its numbers against hand algebra: every expected value
here is written out from the definitions, never read off the engine."""

import math
import re

import numpy as np
import pytest

import manual
from manual.activations import ACTIVATIONS

from helpers import make_data, sigmoid_mse_by_hand

ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
LOSS_OUTPUTS = [("mse", None), ("mse", "softmax"), ("bce", "sigmoid"), ("cross_entropy", "softmax")]


def _sigmoid(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


HAND = {
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "relu": lambda v: max(v, 0.0),
    "leaky_relu": lambda v: v if v > 0 else 0.01 * v,
    "identity": lambda v: v,
}


# ------------------------------------------------------------------ structure


def test_params_have_the_documented_layout():
    net = manual.MLP([3, 5, 2])
    assert [sorted(layer) for layer in net.params] == [["W", "b"], ["W", "b"]]
    assert [layer["W"].shape for layer in net.params] == [(3, 5), (5, 2)]
    assert [layer["b"].shape for layer in net.params] == [(5,), (2,)]
    assert net.activations == ("sigmoid", "sigmoid")
    assert net.dtype == np.float64


def test_bias_false_has_no_b_and_no_db():
    net = manual.MLP([2, 3, 1], bias=False, seed=0)
    assert all("b" not in layer for layer in net.params)
    _, grads = net.loss_and_grads(np.ones((2, 2)), np.zeros((2, 1)))
    assert all(set(g) == {"W"} for g in grads)


def test_grads_are_shaped_exactly_like_params():
    net = manual.MLP.from_params([{"W": np.ones((2, 3)), "b": np.zeros(3)}, {"W": np.ones((3, 1))}])
    _, grads = net.loss_and_grads(np.ones((4, 2)), np.zeros((4, 1)))
    assert [sorted(g) for g in grads] == [["W", "b"], ["W"]]
    for g, p in zip(grads, net.params):
        for k in p:
            assert g[k].shape == p[k].shape and g[k].dtype == p[k].dtype


def test_params_are_live_and_copy_is_deep():
    net = manual.MLP([1, 1], activation="identity", seed=0)
    snapshot = net.copy()
    net.params[0]["W"][...] = 2.0
    net.params[0]["b"][...] = 0.5
    assert net.forward([[3.0]]).item() == 6.5  # 3 * 2 + 0.5
    assert snapshot.params[0]["W"].item() != 2.0


def test_from_params_copies_its_input():
    W = np.array([[1.0]])
    net = manual.MLP.from_params([{"W": W}], activation="identity")
    W[0, 0] = 5.0
    assert net.forward([[1.0]]).item() == 1.0


def test_uniform_init_is_seed_000s_draw_order():
    rng = np.random.default_rng(7)
    W1, b1, W2, b2 = rng.random((2, 2)), rng.random(2), rng.random((2, 1)), rng.random(1)
    net = manual.MLP([2, 2, 1], init="uniform", seed=7)
    p = net.params
    for got, want in [(p[0]["W"], W1), (p[0]["b"], b1), (p[1]["W"], W2), (p[1]["b"], b2)]:
        np.testing.assert_array_equal(got, want)


def test_xavier_and_he_follow_their_definitions():
    n_in, n_out = 300, 200
    xav = manual.MLP([n_in, n_out], init="xavier", seed=1).params[0]
    limit = math.sqrt(6 / (n_in + n_out))
    assert np.abs(xav["W"]).max() <= limit and np.abs(xav["W"]).max() > 0.95 * limit
    assert not xav["b"].any()
    he = manual.MLP([n_in, n_out], init="he", seed=1).params[0]
    # 60,000 draws: the sample std is within 2% of sqrt(2 / n_in)
    assert he["W"].std() == pytest.approx(math.sqrt(2 / n_in), rel=0.02)
    assert abs(he["W"].mean()) < 0.01 * math.sqrt(2 / n_in) * 10
    assert not he["b"].any()


def test_same_seed_same_net_other_seed_other_net():
    a, b, c = (manual.MLP([4, 3, 2], seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.params[0]["W"], b.params[0]["W"])
    assert not np.array_equal(a.params[0]["W"], c.params[0]["W"])


def test_float32_and_float64_nets_start_from_the_same_draws():
    f64 = manual.MLP([3, 4, 2], init="he", seed=5)
    f32 = manual.MLP([3, 4, 2], init="he", seed=5, dtype=np.float32)
    np.testing.assert_array_equal(f32.params[0]["W"], f64.params[0]["W"].astype(np.float32))


def test_activation_per_layer_and_output_activation():
    net = manual.MLP([2, 3, 3, 1], activation=["relu", "tanh", "sigmoid"])
    assert net.activations == ("relu", "tanh", "sigmoid")
    net = manual.MLP([2, 3, 3, 1], activation="relu", output_activation="identity")
    assert net.activations == ("relu", "relu", "identity")


def test_spec_describes_the_architecture():
    net = manual.MLP(
        [2, 2, 1],
        activation="tanh",
        output_activation="sigmoid",
        loss="bce",
        reduction="mean",
        dtype=np.float32,
    )
    assert net.spec() == {
        "kind": "MLP",
        "sizes": [2, 2, 1],
        "activations": ["tanh", "sigmoid"],
        "loss": "bce",
        "reduction": "mean",
        "bias": [True, True],
        "dtype": "float32",
        "l2": 0.0,
    }


# ------------------------------------------------------------------ forward values


@pytest.mark.parametrize("act", ACTS)
def test_forward_matches_hand_evaluation(act):
    W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    b = np.array([0.1, -0.2, 0.3])
    x = np.array([[1.0, -2.0], [0.5, 0.25], [-3.0, 4.0]])
    net = manual.MLP.from_params([{"W": W, "b": b}], activation=act)
    out = net.forward(x)
    for i in range(3):
        for j in range(3):
            z = x[i, 0] * W[0, j] + x[i, 1] * W[1, j] + b[j]
            assert out[i, j] == pytest.approx(HAND[act](z), rel=1e-14, abs=1e-300)


def test_softmax_output_matches_hand_evaluation():
    W = np.array([[1.0, 2.0, 3.0]])
    net = manual.MLP.from_params([{"W": W}], activation="softmax", loss="cross_entropy")
    out = net.forward([[1.0], [-2.0]])
    for i, xi in enumerate([1.0, -2.0]):
        e = [math.exp(xi * w) for w in (1.0, 2.0, 3.0)]
        for j in range(3):
            assert out[i, j] == pytest.approx(e[j] / sum(e), rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_and_silent_up_to_1e4(dtype):
    z = np.array([[-1e4, -800.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 800.0, 1e4]], dtype=dtype)
    # overflow, invalid and divide raise (underflow to 0 is the right answer for exp(-big))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = ACTIVATIONS["sigmoid"](z)
    assert a.dtype == dtype and np.isfinite(a).all()
    assert a[0, -1] == 1.0 and a[0, 5] == 0.5
    assert a[0, 0] == 0.0  # exp(-1e4) underflows: the true value rounds to 0
    assert a[0, 2] == pytest.approx(math.exp(-100), rel=1e-6) or a[0, 2] < np.finfo(dtype).tiny
    # accurate to rounding where the value is a normal number: exp(-30) / (1 + exp(-30))
    assert a[0, 3] == pytest.approx(math.exp(-30) / (1 + math.exp(-30)), rel=4 * float(np.finfo(dtype).eps))
    assert a[0, 4] == pytest.approx(1 / (1 + math.e), rel=4 * float(np.finfo(dtype).eps))


# ------------------------------------------------------------------ loss values


def _net_with_output(z, act, loss, reduction="sum"):
    """A 1-layer identity-weight net whose pre-activation equals z exactly."""
    n = z.shape[1]
    net = manual.MLP.from_params([{"W": np.eye(n)}], activation=act, loss=loss, reduction=reduction)
    return net, z


def test_mse_is_half_the_squared_error_summed_or_averaged():
    z = np.array([[0.2, -0.4], [1.0, 0.3], [0.0, 2.0]])
    y = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    total = sum(0.5 * (z[i, j] - y[i, j]) ** 2 for i in range(3) for j in range(2))
    net, x = _net_with_output(z, "identity", "mse")
    assert net.loss(x, y) == pytest.approx(total, rel=1e-15)
    net, x = _net_with_output(z, "identity", "mse", "mean")
    assert net.loss(x, y) == pytest.approx(total / 6, rel=1e-15)  # mean over all 6 elements


def test_bce_is_binary_cross_entropy_summed_or_averaged():
    z = np.array([[0.3, -1.2], [2.5, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, 0.25]])
    total = 0.0
    for i in range(2):
        for j in range(2):
            a = _sigmoid(z[i, j])
            total -= y[i, j] * math.log(a) + (1 - y[i, j]) * math.log(1 - a)
    net, x = _net_with_output(z, "sigmoid", "bce")
    assert net.loss(x, y) == pytest.approx(total, rel=1e-14)
    net, x = _net_with_output(z, "sigmoid", "bce", "mean")
    assert net.loss(x, y) == pytest.approx(total / 4, rel=1e-14)


def test_cross_entropy_is_minus_log_softmax_of_the_target():
    z = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    total = 0.0
    for i, k in enumerate([1, 0]):
        total -= z[i, k] - math.log(sum(math.exp(v) for v in z[i]))
    net, x = _net_with_output(z, "softmax", "cross_entropy")
    assert net.loss(x, y) == pytest.approx(total, rel=1e-14)
    net, x = _net_with_output(z, "softmax", "cross_entropy", "mean")
    assert net.loss(x, y) == pytest.approx(total / 2, rel=1e-14)  # mean over the 2 samples


@pytest.mark.parametrize(
    "loss,out,delta",
    [
        # dL/dz of the output layer, by hand, for z = 0.4, y = 1 (mse, bce) and z = [0.4, -0.1], y = [1, 0]
        ("mse", "sigmoid", lambda a, y: (a - y) * a * (1 - a)),
        ("bce", "sigmoid", lambda a, y: a - y),
        ("mse", "identity", lambda a, y: a - y),
    ],
)
def test_output_delta_matches_hand_algebra(loss, out, delta):
    net = manual.MLP.from_params([{"W": [[0.4]]}], activation=out, loss=loss)
    a = HAND[out](0.4)
    _, grads = net.loss_and_grads([[1.0]], [[1.0]])
    # dL/dW = x * delta with x = 1
    assert grads[0]["W"].item() == pytest.approx(delta(a, 1.0), rel=1e-14)


def test_softmax_cross_entropy_delta_is_a_minus_y():
    net = manual.MLP.from_params([{"W": [[0.4, -0.1]]}], activation="softmax", loss="cross_entropy")
    e = [math.exp(0.4), math.exp(-0.1)]
    a = [v / sum(e) for v in e]
    _, grads = net.loss_and_grads([[1.0]], [[1.0, 0.0]])
    np.testing.assert_allclose(grads[0]["W"].ravel(), [a[0] - 1, a[1]], rtol=1e-14)


# ------------------------------------------------------------------ gradients


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("loss,out", LOSS_OUTPUTS, ids=[f"{l}-{o}" for l, o in LOSS_OUTPUTS])
@pytest.mark.parametrize("act", ACTS)
def test_gradcheck_passes_for_every_activation_loss_and_reduction(act, loss, out, reduction):
    net = manual.MLP(
        [3, 5, 4, 3],
        activation=act,
        output_activation=out,
        loss=loss,
        reduction=reduction,
        init="xavier",
        seed=2,
    )
    x, y = make_data(net, batch=6, seed=3)
    result = manual.gradcheck(net, x, y)
    assert result.ok, result.report()


def test_gradcheck_without_bias():
    net = manual.MLP([2, 3, 1], activation="tanh", bias=False, init="xavier", seed=0)
    x, y = make_data(net, batch=4)
    assert manual.gradcheck(net, x, y).ok


def test_returned_grads_are_not_overwritten_by_the_next_call():
    net = manual.MLP([2, 2, 1], seed=0)
    _, first = net.loss_and_grads([[0.0, 1.0]], [[1.0]])
    net.loss_and_grads([[5.0, -1.0]], [[0.0]])
    _, by_hand = sigmoid_mse_by_hand(net.params, np.array([[0.0, 1.0]]), np.array([[1.0]]))
    for got, want in zip(first, by_hand):
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-13)


# ------------------------------------------------------------------ dtypes


def test_float32_stays_float32_everywhere():
    net = manual.MLP(
        [3, 4, 2],
        activation="tanh",
        output_activation="softmax",
        loss="cross_entropy",
        dtype=np.float32,
        seed=0,
    )
    x = np.ones((5, 3), np.float32)
    y = np.eye(2, dtype=np.float32)[[0, 1, 0, 1, 1]]
    assert net.forward(x).dtype == np.float32
    _, grads = net.loss_and_grads(x, y)
    assert all(g.dtype == np.float32 for layer in grads for g in layer.values())
    t = net.trace(x, y)
    for layer in t.layers:
        for arr in (layer.z, layer.a, layer.delta, layer.dW, layer.db):
            assert arr.dtype == np.float32


def test_integer_and_list_inputs_are_converted_exactly():
    net = manual.MLP([2, 1], activation="identity", seed=0, dtype=np.float32)
    from_int = net.forward(np.array([[1, 2]]))
    from_list = net.forward([[1, 2]])
    from_f32 = net.forward(np.array([[1.0, 2.0]], np.float32))
    np.testing.assert_array_equal(from_int, from_f32)
    np.testing.assert_array_equal(from_list, from_f32)


# ------------------------------------------------------------------ trace


def test_trace_prints_every_quantity_like_the_walkthrough():
    net = manual.MLP([2, 2, 1], bias=False, seed=0)
    text = str(net.trace([[1.0, 0.0]], [[1.0]]))
    for piece in [
        "forward",
        "backward",
        "z1 = x @ W1",
        "a1 = sigmoid(z1)",
        "z2 = a1 @ W2",
        "loss = mse(a2, y)",
        "delta2 = (a2 - y) * sigmoid'(z2)",
        "delta1 = (delta2 @ W2.T) * sigmoid'(z1)",
        "dW1 = x.T @ delta1",
        "(1, 2)",
    ]:
        assert piece in text, piece


def test_trace_holds_every_number_of_the_pass_by_hand():
    """Each z, a, delta, dW and db of a 2-3-1 sigmoid/mse net on two samples,
    against the forward and backward equations evaluated here entry by entry."""
    net = manual.MLP([2, 3, 1], seed=1)
    x, y = np.array([[0.5, -1.0], [2.0, 0.0]]), np.array([[1.0], [0.0]])
    t = net.trace(x, y)
    (W1, b1), (W2, b2) = ((p["W"], p["b"]) for p in net.params)
    z1 = [[x[i, 0] * W1[0, j] + x[i, 1] * W1[1, j] + b1[j] for j in range(3)] for i in range(2)]
    a1 = [[_sigmoid(v) for v in row] for row in z1]
    z2 = [sum(a1[i][j] * W2[j, 0] for j in range(3)) + b2[0] for i in range(2)]
    a2 = [_sigmoid(v) for v in z2]
    d2 = [(a2[i] - y[i, 0]) * a2[i] * (1 - a2[i]) for i in range(2)]
    d1 = [[d2[i] * W2[j, 0] * a1[i][j] * (1 - a1[i][j]) for j in range(3)] for i in range(2)]
    dW1 = [[sum(x[i, k] * d1[i][j] for i in range(2)) for j in range(3)] for k in range(2)]
    dW2 = [[sum(a1[i][j] * d2[i] for i in range(2))] for j in range(3)]
    h, out = t.layers
    for got, want in [
        (h.z, z1),
        (h.a, a1),
        (out.z.ravel(), z2),
        (out.a.ravel(), a2),
        (out.delta.ravel(), d2),
        (h.delta, d1),
        (h.dW, dW1),
        (out.dW, dW2),
        (h.db, np.sum(d1, axis=0)),
        (out.db, [sum(d2)]),
    ]:
        np.testing.assert_allclose(got, want, rtol=1e-13)
    assert t.loss == pytest.approx(sum(0.5 * (a2[i] - y[i, 0]) ** 2 for i in range(2)), rel=1e-15)
    assert [layer["W"].shape for layer in t.grads] == [(2, 3), (3, 1)]


def test_softmax_has_no_elementwise_derivative_and_says_so():
    with pytest.raises(
        TypeError, match="^softmax has no elementwise derivative: its backward is the Jacobian's product$"
    ):
        ACTIVATIONS["softmax"].prime(np.array([[0.5, 0.5]]))


def test_a_float32_net_computes_in_float32_buffers():
    """No silent upcast inside a step: every buffer of the workspace is the net's dtype."""
    net = manual.MLP([3, 4, 2], activation="sigmoid", dtype=np.float32, seed=0)
    x, y = make_data(net, 5)
    net.loss_and_grads(x, y)
    (ws,) = net._ws.values()
    for buffers in (ws.z, ws.a[1:], ws.delta, ws.work):
        assert [b.dtype for b in buffers] == [np.float32] * 2


@pytest.mark.parametrize("rows", [1, 2, 127, 128, 129, 255, 256, 257, 1000, 4097])
def test_column_sum_is_the_sum_of_the_rows(rows):
    """Against math.fsum (exact, then rounded once); pairwise above 128 rows, so its error
    stays within (128 + log2 rows) eps of the terms' magnitude."""
    from manual.layers.linear import SUM_CHAIN, column_sum

    values = np.random.default_rng(rows).standard_normal((rows, 3)) + np.array([0.0, 1.0, 1e3])
    got = column_sum(values, np.empty(3), np.empty_like(values))
    exact = np.array([math.fsum(values[:, j]) for j in range(3)])
    bound = (SUM_CHAIN + math.log2(rows) + 1) * np.finfo(float).eps * np.abs(values).sum(axis=0)
    assert (np.abs(got - exact) <= bound).all(), (got - exact, bound)
    np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "l2, exc, fragment",
    [(-1, ValueError, "l2: expected a finite number >= 0, got -1"), (float("inf"), ValueError, "got inf"),
     ("0.1", TypeError, "l2: expected a number >= 0, got '0.1' (str)"), (True, TypeError, "got True")],
)  # fmt: skip
def test_a_bad_l2_is_refused_by_name(l2, exc, fragment):
    with pytest.raises(exc, match=re.escape(fragment)):
        manual.MLP([2, 2, 1], l2=l2)


def test_the_l2_penalty_is_half_alpha_w_squared_over_the_batch_on_weights_only():
    """By hand: a 1-1-1 identity net, W = 2 and 3, b = 1 and 1; alpha 0.5, batch 2, "mean":
    the penalty ½·0.5·(4 + 9)/2 = 1.625; its gradient 0.5·W/2 on each W, none on b."""
    params = [{"W": np.array([[2.0]]), "b": np.array([1.0])}, {"W": np.array([[3.0]]), "b": np.array([1.0])}]
    x, y = np.array([[1.0], [0.0]]), np.array([[0.0], [0.0]])
    plain = manual.MLP.from_params(params, activation="identity", reduction="mean")
    with_l2 = manual.MLP.from_params(params, activation="identity", reduction="mean", l2=0.5)
    (l0, g0), (l1, g1) = plain.loss_and_grads(x, y), with_l2.loss_and_grads(x, y)
    assert l1 - l0 == pytest.approx(1.625)
    assert g1[0]["W"] - g0[0]["W"] == pytest.approx(0.5) and g1[1]["W"] - g0[1]["W"] == pytest.approx(0.75)
    assert g1[0]["b"] == g0[0]["b"] and g1[1]["b"] == g0[1]["b"]
    summed = manual.MLP.from_params(params, activation="identity", reduction="sum", l2=0.5)
    assert summed.loss(x, y) - manual.MLP.from_params(params, activation="identity").loss(
        x, y
    ) == pytest.approx(3.25)


def test_the_trace_of_an_l2_net_says_so_in_its_equations():
    params = [{"W": np.array([[2.0]]), "b": np.array([1.0])}, {"W": np.array([[3.0]]), "b": np.array([1.0])}]
    net = manual.MLP.from_params(params, activation="identity", reduction="mean", l2=0.5)
    text = str(net.trace(np.array([[1.0], [0.0]]), np.array([[0.0], [0.0]])))
    assert "l2 = 0.5" in text and "loss = mse(a2, y), mean + l2/2 * sum(W**2) / 2: 30.625" in text
    # dW2 = a1.T @ delta2 + l2 * W2 / 2 = [3, 1] @ [5, 2] + 0.75 = 17.75, by hand
    assert re.search(r"dW2 = a1\.T @ delta2 \+ l2 \* W2 / 2 +\(1, 1\) +\[\[17\.75\]\]", text), text


def test_an_ensemble_of_nets_with_l2_is_refused():
    with pytest.raises(ValueError, match="an Ensemble has no L2 penalty"):
        manual.Ensemble.from_nets([manual.MLP([2, 2, 1], seed=0, l2=0.1)])
