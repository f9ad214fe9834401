"""Training parity: the engine, torch.optim and optax follow the same
trajectory, step for step, for every optimizer.

float64: the loss at every step and the final params agree to a relative 1e-9
over 1,000 steps. float32: the runs drift apart through rounding; the drift is
tested against a bound derived in manual.compare.drift_bound.
"""

import functools

import numpy as np
import pytest

import manual
from conftest import BACKENDS, require
from helpers import make_data
from manual import examples
from manual.compare import drift_bound, max_errors, params_gap, trajectory_gap
from manual.tolerances import tolerance

OPTIMIZERS = {
    "sgd": lambda: manual.SGD(lr=0.05),
    "sgd-momentum": lambda: manual.SGD(lr=0.05, momentum=0.9),
    "sgd-nesterov": lambda: manual.SGD(lr=0.05, momentum=0.9, nesterov=True),
    "sgd-weight-decay": lambda: manual.SGD(lr=0.05, momentum=0.5, weight_decay=1e-2),
    "adam": lambda: manual.Adam(lr=1e-3),
    "adam-weight-decay": lambda: manual.Adam(lr=1e-3, weight_decay=1e-2),
    "adamw": lambda: manual.AdamW(lr=3e-3),
}
LOSSES = {"mse": None, "bce": "sigmoid", "cross_entropy": "softmax"}
# 1,000 steps either way: 1,000 full-batch epochs, or 250 epochs of 64
# samples in shuffled batches of 20, 20, 20 and a short 4
BATCHING = {
    "full": dict(epochs=1000, batch_size=None, shuffle_seed=None),
    "minibatch": dict(epochs=250, batch_size=20, shuffle_seed=7),
}
PAIRS = [("manual", "torch_ref"), ("manual", "jax_ref"), ("torch_ref", "jax_ref")]
PAIR_IDS = ["manual-torch", "manual-jax", "torch-jax"]


def problem(loss, dtype):
    net = manual.MLP([4, 16, 8, 3], activation="tanh", output_activation=LOSSES[loss], loss=loss,
                     reduction="mean", init="xavier", seed=0, dtype=dtype)
    x, y = make_data(net, 64, seed=1)
    return net, x, y


@functools.lru_cache(maxsize=None)
def run(backend, loss, opt, batching, dtype_name, record_every=None):
    net, x, y = problem(loss, np.dtype(dtype_name))
    return BACKENDS[backend].train(net, x, y, OPTIMIZERS[opt](), record_every=record_every, **BATCHING[batching])


# ------------------------------------------------------------------ float64: step for step


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("batching", list(BATCHING))
@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_float64_trajectories_agree_for_1000_steps(opt, loss, batching, pair):
    for name in pair:
        require(name)
    a, b = (run(name, loss, opt, batching, "float64") for name in pair)
    rtol = tolerance("trajectory", np.float64).rtol
    assert len(a.losses) == len(b.losses) == 1000
    gap = trajectory_gap(a, b)
    worst = int(np.argmax(gap.loss))
    assert gap.loss.max() <= rtol, (
        f"{pair[0]} and {pair[1]}: loss differs by {gap.loss[worst]:.2e} (relative) at step {worst}: "
        f"{a.losses[worst]!r} vs {b.losses[worst]!r}"
    )
    for l, (pa, pb) in enumerate(zip(a.params, b.params), start=1):
        for k in pb:
            max_abs, max_rel = max_errors(pa[k], pb[k])
            assert max_rel <= rtol, f"{pair[0]} and {pair[1]}: final {k}{l} differs: max abs {max_abs:.2e}, max rel {max_rel:.2e}"
    # the run went somewhere: the params moved and the loss fell
    assert params_gap(a.params, problem(loss, np.float64)[0].params) > 1e-3
    assert a.losses[-1] < a.losses[0]


# ------------------------------------------------------------------ seed 000, all of it


@functools.lru_cache(maxsize=None)
def seed000_run(backend, data):
    ex = examples.seed000(data)
    hist = BACKENDS[backend].train(ex.net, ex.x, ex.y, manual.SGD(lr=examples.SEED000_ETA),
                                   epochs=examples.SEED000_EPOCHS)
    return hist.net.forward(ex.x)


@pytest.mark.parametrize("data", ["as_written", "xor"])
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_seed000_every_backend_learns_xor(backend, data):
    require(backend)
    out = seed000_run(backend, data)
    y = examples.SEED000_Y
    np.testing.assert_array_equal(out > 0.5, y > 0.5)


@pytest.mark.parametrize("data", ["as_written", "xor"])
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_seed000_final_outputs_agree_after_10000_epochs(pair, data):
    for name in pair:
        require(name)
    a, b = (seed000_run(name, data) for name in pair)
    np.testing.assert_allclose(a, b, rtol=tolerance("trajectory", np.float64).rtol, atol=0)


# ------------------------------------------------------------------ float32: drift, and its bound

DRIFT_OPTIMIZERS = list(OPTIMIZERS)
DRIFT_LOSSES = ["mse", "cross_entropy"]
STEPS = 1000


@functools.lru_cache(maxsize=None)
def float32_bound(loss, opt):
    """manual.compare.drift_bound for the float32 problem (its docstring derives it)."""
    net, x, y = problem(loss, np.float32)
    return drift_bound(net, x, y, OPTIMIZERS[opt](), epochs=STEPS)


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("loss", DRIFT_LOSSES)
@pytest.mark.parametrize("opt", DRIFT_OPTIMIZERS)
def test_float32_drift_stays_within_its_derived_bound(opt, loss, pair):
    for name in pair:
        require(name)
    a, b = (run(name, loss, opt, "full", "float32", record_every=1) for name in pair)
    gap = trajectory_gap(a, b)
    bound = float32_bound(loss, opt)
    assert gap.steps.tolist() == list(range(STEPS + 1))
    over = np.nonzero(gap.params > bound)[0]
    assert over.size == 0, (
        f"{pair[0]} and {pair[1]} drift past the bound at step {over[0]}: "
        f"gap {gap.params[over[0]]:.2e} > bound {bound[over[0]]:.2e}"
    )
    # float32 does drift (summation order differs), and the loss stays close
    assert gap.params[-1] > 0
    assert gap.loss.max() < bound[-1]


def test_trajectory_gap_reports_per_step_loss_and_param_gaps():
    a = manual.History(losses=np.array([1.0, 0.5]), params=None, net=None, state=None,
                       snapshots=[(0, [{"W": np.array([1.0, 2.0])}]), (2, [{"W": np.array([1.0, 4.0])}])])
    b = manual.History(losses=np.array([1.0, 0.4]), params=None, net=None, state=None,
                       snapshots=[(0, [{"W": np.array([1.0, 2.0])}]), (2, [{"W": np.array([1.0, 5.0])}])])
    gap = trajectory_gap(a, b)
    np.testing.assert_allclose(gap.loss, [0.0, 0.25])
    assert gap.steps.tolist() == [0, 2]
    np.testing.assert_allclose(gap.params, [0.0, 0.2])  # |4 - 5| / max|b| = 1/5
