"""Training parity: the engine, torch.optim and optax follow the same
trajectory, step for step, for every optimizer.

float64: the loss at every step and the final params agree to a relative 1e-9
over 1,000 steps. float32: the runs drift apart through rounding; the drift is
tested against a bound derived in crosscheck.compare.drift_bound.

The optimizers' rules do not depend on the loss or the batching: every
optimizer runs on one loss (cross-entropy on a softmax) in shuffled
mini-batches with a short last one; plain SGD also full batch (the seeds');
every other loss with Adam. float32 drifts under the three kinds of update
(plain SGD, Nesterov momentum, Adam).
"""

import functools

import numpy as np
import pytest

import manual
from crosscheck import backends
from crosscheck.compare import drift_bound, max_errors, params_gap, trajectory_gap
from crosscheck.tolerances import tolerance
from references import Run

from conftest import PAIR_IDS, PAIRS, require
from helpers import make_data

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
RUNS = (
    [(opt, "cross_entropy", "minibatch") for opt in OPTIMIZERS]
    + [("sgd", "cross_entropy", "full")]
    + [("adam", loss, "minibatch") for loss in LOSSES if loss != "cross_entropy"]
)


def problem(loss, dtype):
    net = manual.MLP(
        [4, 16, 8, 3],
        activation="tanh",
        output_activation=LOSSES[loss],
        loss=loss,
        reduction="mean",
        init="xavier",
        seed=0,
        dtype=dtype,
    )
    x, y = make_data(net, 64, seed=1)
    return net, x, y


@functools.cache
def run(backend, loss, opt, batching, dtype_name, record_every=None):
    net, x, y = problem(loss, np.dtype(dtype_name))
    return backends.train(
        backend, net, x, y, OPTIMIZERS[opt](), record_every=record_every, **BATCHING[batching]
    )


# ------------------------------------------------------------------ float64: step for step


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("opt,loss,batching", RUNS, ids=["-".join(r) for r in RUNS])
def test_float64_trajectories_agree_for_1000_steps(opt, loss, batching, pair):
    require(*pair)
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
            assert max_rel <= rtol, (
                f"{pair[0]} and {pair[1]}: final {k}{l} differs: max abs {max_abs:.2e}, max rel {max_rel:.2e}"
            )
    # the run went somewhere: the params moved and the loss fell
    assert params_gap(a.params, problem(loss, np.float64)[0].params) > 1e-3
    assert a.losses[-1] < a.losses[0]


# ------------------------------------------------------------------ float32: drift, and its bound

DRIFT_OPTIMIZERS = ["sgd", "sgd-nesterov", "adam"]
DRIFT_LOSSES = ["cross_entropy"]
STEPS = 1000


@functools.cache
def float32_bound(loss, opt):
    """crosscheck.compare.drift_bound for the float32 problem (its docstring derives it)."""
    net, x, y = problem(loss, np.float32)
    return drift_bound(net, x, y, OPTIMIZERS[opt](), epochs=STEPS)


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("loss", DRIFT_LOSSES)
@pytest.mark.parametrize("opt", DRIFT_OPTIMIZERS)
def test_float32_drift_stays_within_its_derived_bound(opt, loss, pair):
    require(*pair)
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
    a = Run(
        losses=np.array([1.0, 0.5]),
        params=None,
        snapshots=[(0, [{"W": np.array([1.0, 2.0])}]), (2, [{"W": np.array([1.0, 4.0])}])],
    )
    b = Run(
        losses=np.array([1.0, 0.4]),
        params=None,
        snapshots=[(0, [{"W": np.array([1.0, 2.0])}]), (2, [{"W": np.array([1.0, 5.0])}])],
    )
    gap = trajectory_gap(a, b)
    np.testing.assert_allclose(gap.loss, [0.0, 0.25])
    assert gap.steps.tolist() == [0, 2]
    np.testing.assert_allclose(gap.params, [0.0, 0.2])  # |4 - 5| / max|b| = 1/5


def test_a_loss_near_zero_is_compared_on_the_scale_its_rounding_has():
    """A memorized sample, logits (20, 0, 0) with label 0: its cross-entropy log(1 + 2e⁻²⁰) is
    4.1e-9, and two correct ways of computing it (log Σ exp(z − max) + max − z_y, and
    log1p(Σ_{j≠y} exp(z_j − z_y))) part by 1.2e-15: one rounding of the sum whose largest term
    is 1, 3e-7 relative to the loss. On the loss's rounding floor (1 for a mean, loss_floor)
    that is what it is, a few u; an mse has no floor and stays relative."""
    from crosscheck.compare import loss_floor

    z = np.array([20.0, 0.0, 0.0])
    a = np.log(np.exp(z - z.max()).sum()) + z.max() - z[0]
    b = np.log1p(np.exp(z[1:] - z[0]).sum())
    assert abs(a - b) / b > 100 * tolerance("trajectory", np.float64).rtol
    runs = [Run(params=[], losses=[1.0, v], snapshots=[]) for v in (a, b)]
    ce = {"loss": "cross_entropy", "reduction": "mean"}
    assert loss_floor(ce, 32) == 1.0 and loss_floor({**ce, "reduction": "sum"}, 32) == 32.0
    assert loss_floor({"loss": "mse", "reduction": "mean"}, 32) == 0.0
    assert trajectory_gap(*runs, loss_floor(ce, 32)).loss.max() < 1e-14
    assert trajectory_gap(*runs).loss.max() == pytest.approx(abs(a - b) / b)
