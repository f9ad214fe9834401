"""The engine at the numerical extremes, each case checked against PyTorch and JAX.

Every engine call here runs under ``np.errstate(over/invalid/divide="raise")``,
and pytest turns any warning into an error: an overflow or a NaN anywhere fails.
"""

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import manual
from crosscheck import backends
from crosscheck.compare import output_scale
from crosscheck.testing import assert_grads_close
from crosscheck.tolerances import tolerance

from conftest import require
from test_properties import FRAMEWORK_EXAMPLES, away_from_kinks, margin, problems

RAISE = dict(over="raise", invalid="raise", divide="raise")
# how far pre-activations go: the engine's promise, by dtype
REACH = {np.float64: [1e2, 1e4], np.float32: [1e2, 1e3]}
EXTREME_CASES = [(dt, m) for dt, ms in REACH.items() for m in ms]
OUTPUTS = [
    ("bce", "sigmoid"),
    ("cross_entropy", "softmax"),
    ("mse", "softmax"),
    ("mse", "sigmoid"),
    ("mse", "tanh"),
]


def engine_call(net, x, y):
    with np.errstate(**RAISE):
        out = net.forward(x)
        result = net.loss_and_grads(x, y)
        net.trace(x, y)
    return out, result


def saturated(hidden, loss, output, dtype, reach):
    """A 3-4-3 net whose pre-activations, hidden and output, reach +-reach."""
    rng = np.random.default_rng(int(reach) % 97)
    x = np.array([[1.0, -1.0, 0.5], [-0.5, 1.0, -1.0], [0.25, 0.5, 1.0], [-1.0, -0.25, 0.75]])
    W1 = rng.choice([-1.0, 1.0], (3, 4)) * reach / 2.5
    W1[:, 3] = rng.standard_normal(3)  # one unit stays in its sensitive range
    # the hidden outputs are ~+-1 (tanh) or ~0/1 (sigmoid): scale W2 to reach too
    W2 = rng.choice([-1.0, 1.0], (4, 3)) * reach / 3
    net = manual.MLP.from_params(
        [{"W": W1, "b": np.zeros(4)}, {"W": W2, "b": np.zeros(3)}],
        activation=[hidden, output],
        loss=loss,
        dtype=dtype,
    )
    y = np.eye(3)[[0, 2, 1, 0]] if loss != "mse" or output == "softmax" else rng.random((4, 3))
    if loss == "bce":
        y = rng.integers(0, 2, (4, 3)).astype(float)
    return net, x.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("loss,output", OUTPUTS, ids=[f"{l}-{o}" for l, o in OUTPUTS])
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh"])
@pytest.mark.parametrize(
    "dtype,reach", EXTREME_CASES, ids=[f"{np.dtype(d).name}-{r:g}" for d, r in EXTREME_CASES]
)
def test_saturated_units_agree_with_the_frameworks(dtype, reach, hidden, loss, output, reference):
    net, x, y = saturated(hidden, loss, output, dtype, reach)
    z1 = x.astype(np.float64) @ net.params[0]["W"].astype(np.float64)
    assert reach / 2 <= np.abs(z1).max() <= reach  # the case is as extreme as it says
    out, mine = engine_call(net, x, y)
    assert np.isfinite(out).all() and np.isfinite(mine[0])
    assert all(np.isfinite(g).all() for layer in mine[1] for g in layer.values())
    theirs = backends.loss_and_grads(reference, net, x, y)
    assert_grads_close(net, x, y, mine, theirs, names=("manual", reference))
    # the outputs too, entry by entry within the rounding of what they are computed from
    gap = np.abs(out.astype(np.float64) - backends.forward(reference, net, x))
    assert (gap <= tolerance("parity", dtype).rtol * output_scale(net, x)).all(), gap.max()


@pytest.mark.parametrize(
    "dtype,z",
    [
        (np.float64, 40.0),
        (np.float64, 1e3),
        (np.float64, 1e4),
        (np.float32, 20.0),
        (np.float32, 1e2),
        (np.float32, 1e3),
    ],
)
def test_bce_at_outputs_that_round_to_0_and_1(dtype, z, reference):
    """z = +-40 (float64) puts sigma at exactly 1 and at 4e-18; +-1e3 at exactly 1 and 0.
    The loss must be what the logits give, not log(0) = -inf."""
    logits = np.array([[z, -z, z, -z]])
    y = np.array([[1.0, 0.0, 0.0, 1.0]])  # two right, two wrong by |z|
    net = manual.MLP.from_params([{"W": np.eye(4)}], activation="sigmoid", loss="bce", dtype=dtype)
    x = logits.astype(dtype)
    out, (loss, grads) = engine_call(net, x, y.astype(dtype))
    assert out[0, 0] == 1.0 and out[0, 2] == 1.0
    if z >= 1e3:
        assert out[0, 1] == 0.0 and out[0, 3] == 0.0
    # by hand, from the logits: max(z, 0) - z y + log(1 + exp(-|z|)) per element
    expected = sum(max(v, 0) - v * t + math.log1p(math.exp(-abs(v))) for v, t in zip(logits[0], y[0]))
    assert loss == pytest.approx(expected, rel=4 * float(np.finfo(dtype).eps))
    assert math.isfinite(loss) and loss >= 2 * z * 0.999
    # the fused delta a - y keeps the gradient finite: dL/dW[i, j] = x_i (sigma(x_j) - y_j), by hand
    sig = (
        [1.0 if v > 0 else 0.0 for v in logits[0]]
        if z >= 1e3
        else [1 / (1 + math.exp(-v)) for v in logits[0]]
    )
    by_hand = [[logits[0, i] * (sig[j] - y[0, j]) for j in range(4)] for i in range(4)]
    # sigma(z) near 1 is accurate to eps absolutely (float32's sigma(20) is exactly 1): x times that
    np.testing.assert_allclose(grads[0]["W"], by_hand, rtol=1e-6, atol=2 * float(np.finfo(dtype).eps) * z)
    theirs = backends.loss_and_grads(reference, net, x, y.astype(dtype))
    assert theirs[0] == pytest.approx(loss, rel=4 * float(np.finfo(dtype).eps))
    assert_grads_close(net, x, y.astype(dtype), (loss, grads), theirs, names=("manual", reference))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_with_logits_spread_by_1e3(dtype, reference):
    logits = np.array([[1000.0, 0.0, -1000.0], [-500.0, 500.0, 0.0], [3.0, -2.0, 1.0]])
    y = np.eye(3)[[2, 1, 0]]  # far wrong, right, moderate
    net = manual.MLP.from_params([{"W": np.eye(3)}], activation="softmax", loss="cross_entropy", dtype=dtype)
    x = logits.astype(dtype)
    out, (loss, grads) = engine_call(net, x, y.astype(dtype))
    expected = 0.0
    for row, k in zip(logits, [2, 1, 0]):
        m = max(row)
        expected += m + math.log(sum(math.exp(v - m) for v in row)) - row[k]
    assert loss == pytest.approx(expected, rel=8 * float(np.finfo(dtype).eps))  # 2000 + ~0 + 0.18
    assert out[0, 2] == 0.0 and out[0, 0] == 1.0
    # dL/dW = x.T @ (softmax(x) - y), with the softmax by hand
    soft = [
        [math.exp(v - max(row)) / sum(math.exp(u - max(row)) for u in row) for v in row] for row in logits
    ]
    by_hand = np.array(logits).T @ (np.array(soft) - y)
    np.testing.assert_allclose(grads[0]["W"], by_hand, rtol=1e-6, atol=1e-9)
    theirs = backends.loss_and_grads(reference, net, x, y.astype(dtype))
    assert_grads_close(net, x, y.astype(dtype), (loss, grads), theirs, names=("manual", reference))


# ------------------------------------------------------------------ scale


class CountingNumpy:
    """numpy, counting the calls made through it."""

    def __init__(self):
        self.calls = 0

    def __getattr__(self, name):
        attr = getattr(np, name)
        if not callable(attr) or isinstance(attr, type):
            return attr
        return _Counted(attr, self)


class _Counted:
    """A NumPy function or ufunc whose calls (and ufunc methods: reduce, ...) are counted."""

    def __init__(self, fn, counter):
        self.fn, self.counter = fn, counter

    def __call__(self, *args, **kwargs):
        self.counter.calls += 1
        return self.fn(*args, **kwargs)

    def __getattr__(self, name):
        return _Counted(getattr(self.fn, name), self.counter)


def numpy_calls_per_step(monkeypatch, net, x, y):
    from manual import activations, backprop, losses, optim
    from manual.layers import linear

    counter = CountingNumpy()
    trainer = manual.Trainer(net, manual.SGD(lr=1e-3))
    trainer.step(x, y)
    for module in (activations, backprop, linear, losses, optim):
        monkeypatch.setattr(module, "np", counter)
    trainer.step(x, y)
    monkeypatch.undo()
    return counter.calls


def test_no_python_loop_over_samples_or_units(monkeypatch):
    """The NumPy calls a step makes do not depend on the width, nor on the batch up
    to linear.SUM_CHAIN (above it, the bias sums halve the batch: log2 more calls)."""
    rng = np.random.default_rng(0)
    counts = set()
    for batch, width in [(1, 3), (128, 3), (10, 300)]:
        net = manual.MLP([4, width, 2], activation="tanh", seed=0)
        counts.add(numpy_calls_per_step(monkeypatch, net, rng.random((batch, 4)), rng.random((batch, 2))))
    assert len(counts) == 1 and counts.pop() > 10


def test_a_batch_of_100000_trains_without_copying_the_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100_000, 8)).astype(np.float32)
    y = rng.random((100_000, 1)).astype(np.float32)
    net = manual.MLP(
        [8, 64, 1], activation="relu", output_activation="identity", init="he", seed=0, dtype=np.float32
    )
    trainer = manual.Trainer(net, manual.SGD(lr=1e-4))
    with np.errstate(**RAISE):
        trainer.step(x, y)  # allocates the workspace: (100000, 64) buffers
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            loss = trainer.step(x, y)  # validates x and y again, then the step
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < x.nbytes / 10, f"a step allocated {peak} bytes; the batch is {x.nbytes}"
    assert math.isfinite(loss)
    history = manual.train(net, x, y, manual.Adam(lr=1e-3), epochs=2)
    assert history.losses.dtype == np.float32 and history.losses[1] < history.losses[0]


def test_a_4096_wide_layer_stays_float32_end_to_end_and_agrees_with_torch():
    require("torch")
    rng = np.random.default_rng(1)
    net = manual.MLP(
        [64, 4096, 10],
        activation="relu",
        output_activation="softmax",
        loss="cross_entropy",
        init="he",
        seed=0,
        dtype=np.float32,
    )
    x = rng.standard_normal((128, 64)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    with np.errstate(**RAISE):
        loss, grads = net.loss_and_grads(x, y)
        t = net.trace(x, y)
        history = manual.train(net, x, y, manual.AdamW(lr=1e-3), epochs=3, batch_size=50, shuffle_seed=0)
    assert all(g.dtype == np.float32 for layer in grads for g in layer.values())
    assert all(a.dtype == np.float32 for layer in t.layers for a in (layer.z, layer.a, layer.delta, layer.dW))
    assert history.losses.dtype == np.float32
    assert all(p.dtype == np.float32 for layer in history.params for p in layer.values())
    assert all(b.dtype == np.float32 for bufs in history.state.optimizer.buffers.values() for b in bufs)
    assert_grads_close(
        net, x, y, (loss, grads), backends.loss_and_grads("torch", net, x, y), names=("manual", "torch")
    )


# ------------------------------------------------------------------ Hypothesis, at the edges

EDGE_VALUES = st.one_of(
    st.floats(-3, 3, width=32),
    st.sampled_from([-100.0, 100.0, -30.0, 30.0, 1e-20, -1e-20, 0.0]),
)
LIMIT = {np.dtype(np.float64): 1e4, np.dtype(np.float32): 1e3}


def max_preactivation(net, x):
    a, top = np.asarray(x, np.float64), 0.0
    for layer, act in zip(net.params, net.activations):
        z = a @ layer["W"].astype(np.float64) + layer.get("b", np.zeros(1)).astype(np.float64)
        top = max(top, float(np.abs(z).max()))
        with np.errstate(over="ignore", under="ignore"):
            a = manual.activations.ACTIVATIONS[act](z)
    return top


@given(problems(values=EDGE_VALUES))
@settings(max_examples=FRAMEWORK_EXAMPLES)  # each compiles JAX anew: see test_properties
def test_extreme_but_finite_nets_agree_with_both_frameworks(problem):
    net, x, y = problem
    assume(max_preactivation(net, x) <= LIMIT[net.dtype])
    assume(away_from_kinks(net, x, margin(net)))
    out, mine = engine_call(net, x, y)
    assert np.isfinite(out).all()
    require("torch", "jax")
    for name in ("torch", "jax"):
        assert_grads_close(net, x, y, mine, backends.loss_and_grads(name, net, x, y), names=("manual", name))
