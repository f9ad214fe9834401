"""The engine's optimizers against their update rules written out by hand, and
the training loop's contract (batches, History, no mutation, no allocation)."""

import math
import tracemalloc

import numpy as np
import pytest

import manual
from manual import backprop

from helpers import sigmoid_mse_by_hand

GRADS = [np.array([[0.5, -1.0]]), np.array([[0.25, 2.0]]), np.array([[-0.75, 0.1]])]
START = np.array([[1.0, -2.0]])


def run_optimizer(opt, grads=GRADS):
    params = [{"W": START.copy()}]
    state = opt.init(params)
    for g in grads:
        opt.step(params, [{"W": g.copy()}], state)
    assert state.step == len(grads)
    return params[0]["W"]


def by_hand_sgd(lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """torch.optim.SGD's documented rule, one scalar at a time."""
    out = []
    for j in range(START.size):
        p, buf = START.ravel()[j], None
        for g in GRADS:
            d = g.ravel()[j] + weight_decay * p
            if momentum:
                buf = d if buf is None else momentum * buf + d
                d = d + momentum * buf if nesterov else buf
            p = p - lr * d
        out.append(p)
    return np.array([out])


def by_hand_adam(lr, b1, b2, eps, weight_decay=0.0, decoupled=False):
    """torch.optim.Adam / AdamW's documented rule, one scalar at a time."""
    out = []
    for j in range(START.size):
        p, m, v = START.ravel()[j], 0.0, 0.0
        for t, g in enumerate(GRADS, start=1):
            g = g.ravel()[j]
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(p)
    return np.array([out])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1),
        dict(lr=0.1, momentum=0.9),
        dict(lr=0.1, momentum=0.9, nesterov=True),
        dict(lr=0.1, momentum=0.5, weight_decay=0.2),
        dict(lr=0.1, weight_decay=0.2),
    ],
    ids=["plain", "momentum", "nesterov", "momentum-wd", "wd"],
)
def test_sgd_follows_torchs_rule(kwargs):
    np.testing.assert_allclose(run_optimizer(manual.SGD(**kwargs)), by_hand_sgd(**kwargs), rtol=1e-15)


@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(weight_decay=0.1), dict(betas=(0.8, 0.9), eps=1e-3)],
    ids=["default", "wd", "betas-eps"],
)
def test_adam_follows_torchs_rule(kwargs):
    opt = manual.Adam(lr=0.01, **kwargs)
    want = by_hand_adam(0.01, *opt.betas, opt.eps, opt.weight_decay)
    np.testing.assert_allclose(run_optimizer(opt), want, rtol=1e-14)


def test_adamw_decays_the_weights_outside_the_moments():
    opt = manual.AdamW(lr=0.01, weight_decay=0.1)
    want = by_hand_adam(0.01, 0.9, 0.999, 1e-8, weight_decay=0.1, decoupled=True)
    np.testing.assert_allclose(run_optimizer(opt), want, rtol=1e-14)
    assert not np.allclose(want, by_hand_adam(0.01, 0.9, 0.999, 1e-8, weight_decay=0.1))
    assert manual.AdamW().weight_decay == 1e-2  # PyTorch's default


# ------------------------------------------------------------------ train's contract


def data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)), rng.random((n, 2))


def test_train_does_not_mutate_the_net():
    net = manual.MLP([3, 4, 2], seed=0)
    before = net.copy().params
    hist = manual.train(net, *data(), manual.SGD(lr=0.5), epochs=5)
    for a, b in zip(net.params, before):
        np.testing.assert_array_equal(a["W"], b["W"])
    assert not np.array_equal(hist.params[0]["W"], before[0]["W"])
    assert hist.params[0]["W"] is not net.params[0]["W"]


def test_history_holds_losses_params_net_and_snapshots():
    net = manual.MLP([3, 4, 2], seed=0, dtype=np.float32)
    x, y = data()
    hist = manual.train(
        net,
        x.astype(np.float32),
        y.astype(np.float32),
        manual.SGD(lr=0.1),
        epochs=4,
        batch_size=4,
        record_every=5,
    )
    assert hist.losses.shape == (12,) and hist.losses.dtype == np.float32  # 3 batches (4, 4, 2) x 4 epochs
    assert [s for s, _ in hist.snapshots] == [0, 5, 10]
    np.testing.assert_array_equal(hist.snapshots[0][1][0]["W"], net.params[0]["W"])
    assert isinstance(hist.net, manual.MLP)
    np.testing.assert_array_equal(hist.net.params[1]["b"], hist.params[1]["b"])
    assert hist.state.step == 12 and hist.state.epoch == 4


@pytest.mark.parametrize("shuffle_seed", [None, 11])
def test_batches_are_the_documented_order_and_losses_precede_their_update(shuffle_seed):
    """Batches: a permutation from default_rng(shuffle_seed) per epoch (data order
    without a seed), cut into pieces of batch_size, the short last one kept.
    Each recorded loss is the loss of that batch under the params before the step."""
    net = manual.MLP([3, 4, 2], seed=1)
    x, y = data()
    hist = manual.train(
        net, x, y, manual.SGD(lr=0.3), epochs=3, batch_size=4, shuffle_seed=shuffle_seed, record_every=1
    )
    rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
    expected = []
    for _ in range(3):
        order = np.arange(10) if rng is None else rng.permutation(10)
        expected += [order[0:4], order[4:8], order[8:10]]
    assert len(hist.losses) == len(expected) == 9
    # plain gradient descent written out by hand on those batches, from the same start
    params = [{k: v.copy() for k, v in layer.items()} for layer in net.params]
    for k, idx in enumerate(expected):
        loss, grads = sigmoid_mse_by_hand(params, x[idx], y[idx])
        assert hist.losses[k] == pytest.approx(loss, rel=1e-13)
        for p, g in zip(params, grads):
            for name in p:
                p[name] -= 0.3 * g[name]
    for got, want in zip(hist.params, params):
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-12)


def test_a_short_last_batch_reuses_the_full_batchs_buffers(monkeypatch):
    """10 epochs of batches 4, 4, 2: one workspace is built, not one per change of size."""
    built = []

    class Counting(backprop.Workspace):
        def __init__(self, *args):
            built.append(args)
            super().__init__(*args)

    monkeypatch.setattr(backprop, "Workspace", Counting)
    hist = manual.train(manual.MLP([3, 4, 2], seed=0), *data(), manual.SGD(lr=0.1), epochs=10, batch_size=4)
    assert len(hist.losses) == 30
    assert len(built) == 1, f"{len(built)} workspaces built for batch sizes {[a[1] for a in built]}"


def test_progress_is_called_after_every_step():
    calls = []
    manual.train(
        manual.MLP([3, 2], seed=0),
        *data(),
        manual.SGD(lr=0.1),
        epochs=3,
        batch_size=4,
        progress=lambda: calls.append(1),
    )
    assert len(calls) == 9


def test_full_batch_is_one_step_per_epoch_as_the_seeds_do():
    net = manual.MLP([3, 2], seed=0)
    x, y = data()
    hist = manual.train(net, x, y, manual.SGD(lr=0.1), epochs=7)
    assert len(hist.losses) == 7
    assert hist.losses[0] == pytest.approx(sigmoid_mse_by_hand(net.params, x, y)[0], rel=1e-14)


def test_trainer_updates_the_nets_own_arrays_in_place():
    net = manual.MLP([3, 4, 2], seed=0)
    W = net.params[0]["W"]
    before = W.copy()
    trainer = manual.Trainer(net, manual.Adam(lr=0.1))
    trainer.step(*data())
    assert net.params[0]["W"] is W and not np.array_equal(W, before)


def step_peak(trainer, x, y):
    trainer.step(x, y)  # the first step made every buffer there is
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        trainer.step(x, y)  # as a user's loop calls it: validation included
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "opt,act",
    [
        (manual.SGD(lr=0.1, momentum=0.9, weight_decay=0.01), "sigmoid"),
        (manual.Adam(), "tanh"),
        (manual.AdamW(), "relu"),
        (manual.SGD(lr=0.1), "leaky_relu"),
    ],
    ids=["sgd-sigmoid", "adam-tanh", "adamw-relu", "sgd-leaky_relu"],
)
def test_a_training_step_allocates_nothing_the_size_of_the_params(opt, act):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 1024)), rng.random((8, 1024))
    net = manual.MLP([1024, 2048, 1024], activation=act, seed=0)  # 4.2 million params, 34 MB
    param_bytes = sum(p.nbytes for layer in net.params for p in layer.values())
    peak = step_peak(manual.Trainer(net, opt), x, y)
    # what remains is NumPy's ufunc buffer for the broadcast bias add (at most
    # 8192 elements, 64 KiB, whatever the size of the arrays) and small scalars
    assert peak < 100_000, f"a step allocated {peak} bytes (params: {param_bytes})"
    assert peak < 0.01 * param_bytes
