"""manual.Ensemble: N nets at once compute what N single nets compute, what
torch.func's vmap and jax.vmap compute, and train as they train.

Parity: every net's loss and gradients against ``torch.func`` (stacked params,
``vmap(grad(functional_call))``) and ``jax.vmap(jax.value_and_grad)``, judged
per net against its own rounding scale (``assert_ensemble_grads_close``); every
compared array of every net is informative (``smallest_detectable``). The
matrix: five architectures covering every activation, loss and reduction,
both dtypes (mse on a softmax output in float64 only, as in test_parity),
N in {1, 7, 1000}, data shared by the nets or one batch per net.
"""

import functools

import numpy as np
import pytest

import manual
from crosscheck import backends
from crosscheck.compare import rounding_scale, smallest_detectable, trajectory_gap
from crosscheck.testing import assert_ensemble_grads_close
from crosscheck.tolerances import tolerance

import mutants
from conftest import require

ARCHS = {
    # the seeds' XOR net, from seed 000's U[0, 1) start
    "xor-sigmoid-mse-sum": dict(sizes=[2, 2, 1], activation="sigmoid", init="uniform"),
    "tanh-softmax-ce-mean": dict(
        sizes=[3, 5, 4, 3],
        activation="tanh",
        output_activation="softmax",
        loss="cross_entropy",
        reduction="mean",
        init="xavier",
    ),
    "leaky-sigmoid-bce-sum": dict(
        sizes=[4, 6, 1],
        activation="leaky_relu",
        output_activation="sigmoid",
        loss="bce",
        init="he",
        bias=False,
    ),
    "relu-identity-mse-sum": dict(
        sizes=[2, 8, 2], activation="relu", output_activation="identity", init="he"
    ),
    "identity-softmax-mse-mean": dict(
        sizes=[3, 4, 3],
        activation="identity",
        output_activation="softmax",
        reduction="mean",
        init="xavier",
    ),
}
# float32 sees a relative error of 1e-3 in every gradient array of most of these
# nets' starts (the median net: 2.7e-4, 8e-4); on sigmoid-mse, softmax and tanh
# nets it sees ~1e-2 at best: float64 checks those (test_parity has float32
# configurations for them, chosen among candidates)
FLOAT32 = {"relu-identity-mse-sum", "leaky-sigmoid-bce-sum"}
DETECT = {np.float64: 1e-6, np.float32: 1e-3}
BATCH = 5
# N in {1, 7, 1000} and both kinds of data, not their full product: 7 nets on
# per-net data and 1,000 on either in turn for every architecture and dtype,
# 1 net (shared data) for two of them
SINGLE = {"xor-sigmoid-mse-sum", "tanh-softmax-ce-mean"}
MATRIX = [
    (arch, dtype, n, data)
    for i, arch in enumerate(ARCHS)
    for j, dtype in enumerate((np.float64, np.float32))
    if dtype == np.float64 or arch in FLOAT32
    for n, data in [(1, "shared"), (7, "per-net"), (1000, ("shared", "per-net")[(i + j) % 2])]
    if n > 1 or arch in SINGLE
]


def matrix_id(arch, dtype, n, data):
    return f"{arch}-{np.dtype(dtype).name}-N{n}-{data}"


def make_ensemble(arch, dtype, n):
    return manual.Ensemble(n_nets=n, dtype=dtype, seeds=[1000 + i for i in range(n)], **ARCHS[arch])


def make_data(ens, shared, seed=0):
    """x and targets the loss takes: ``(batch, ...)`` shared, or ``(N, batch, ...)``.
    mse targets lie below the output's range, so errors do not cancel over a batch."""
    rng = np.random.default_rng(seed)
    lead = (BATCH,) if shared else (ens.n_nets, BATCH)
    n_in, n_out = ens.sizes[0], ens.sizes[-1]
    x = rng.standard_normal((*lead, n_in))
    if ens.loss_name == "cross_entropy":
        y = np.eye(n_out)[rng.integers(0, n_out, lead)]
    elif ens.loss_name == "bce":
        y = rng.integers(0, 2, (*lead, n_out)).astype(float)
    else:
        y = rng.random((*lead, n_out)) - (4.0 if ens.activations[-1] == "identity" else 1.0)
    return x.astype(ens.dtype), y.astype(ens.dtype)


@functools.cache
def engine_case(arch, dtype, n, data):
    """The engine's result, the data, the per-net rounding scales and which nets are
    informative (every gradient array reveals a relative error of DETECT), once per
    configuration."""
    ens = make_ensemble(arch, dtype, n)
    x, y = make_data(ens, data == "shared")
    result, scale = ens.loss_and_grads(x, y), rounding_scale(ens, x, y)
    detectable = smallest_detectable(result, scale, dtype, per_net=True)
    detectable.pop("loss")  # a scalar, not a gradient (as in test_parity)
    informative = np.max(list(detectable.values()), axis=0) <= DETECT[dtype]
    return ens, x, y, result, scale, informative


@pytest.mark.parametrize("reference", ["torch", "jax"])
@pytest.mark.parametrize("arch,dtype,n,data", MATRIX, ids=[matrix_id(*c) for c in MATRIX])
def test_every_net_agrees_with_the_vmapped_frameworks(arch, dtype, n, data, reference):
    """float64: every net; float32: the informative nets, at least a third of them
    (leaky-sigmoid-bce: 67% of 1,000 starts are)."""
    require(reference)
    ens, x, y, mine, scale, informative = engine_case(arch, dtype, n, data)
    assert informative.all() if dtype == np.float64 else informative.mean() >= 1 / 3, (
        f"{np.count_nonzero(~informative)} of {n} nets have an uninformative gradient array"
    )
    theirs = backends.ensemble_loss_and_grads(reference, ens, x, y)
    assert theirs[0].dtype == dtype and theirs[1][0]["W"].dtype == dtype
    assert_ensemble_grads_close(
        ens, x, y, mine, theirs, names=("manual", reference), scale=scale, nets=np.flatnonzero(informative)
    )


@pytest.mark.parametrize("data", ["shared", "per-net"])
@pytest.mark.parametrize("arch", ARCHS)
def test_every_net_computes_what_it_computes_alone(arch, data):
    ens, x, y, (losses, grads), scale, _ = engine_case(arch, np.float64, 7, data)
    alone = [
        ens.net(i).loss_and_grads(x[i] if data == "per-net" else x, y[i] if data == "per-net" else y)
        for i in range(7)
    ]
    stacked = (
        np.array([loss for loss, _ in alone]),
        [{k: np.stack([g[l][k] for _, g in alone]) for k in layer} for l, layer in enumerate(grads)],
    )
    assert_ensemble_grads_close(ens, x, y, stacked, (losses, grads), names=("MLP", "Ensemble"), scale=scale)


@pytest.mark.parametrize("data", ["shared", "per-net"])
@pytest.mark.parametrize("arch", ARCHS)
def test_an_ensembles_rounding_scale_is_each_nets(arch, data):
    """The harness's scales, computed for all nets at once, are each net's own."""
    ens, x, y, _, scale, _ = engine_case(arch, np.float64, 7, data)
    for i in range(7):
        loss, grads = rounding_scale(
            ens.net(i), x[i] if data == "per-net" else x, y[i] if data == "per-net" else y
        )
        assert scale[0][i] == loss
        for mine, theirs in zip(scale[1], grads):
            for k in theirs:
                np.testing.assert_array_equal(mine[k][i], theirs[k])


# ------------------------------------------------------------------ construction


def test_each_net_is_drawn_as_a_single_net_with_its_seed():
    ens = manual.Ensemble([2, 3, 1], seeds=[5, 0, 9], init="xavier", activation="tanh")
    for i, seed in enumerate([5, 0, 9]):
        alone = manual.MLP([2, 3, 1], seed=seed, init="xavier", activation="tanh")
        for mine, theirs in zip(ens.net(i).params, alone.params):
            for k in theirs:
                np.testing.assert_array_equal(mine[k], theirs[k])
    assert [layer["W"].shape for layer in ens.params] == [(3, 2, 3), (3, 3, 1)]
    assert [layer["b"].shape for layer in ens.params] == [(3, 3), (3, 1)]


def test_from_nets_and_from_params_hold_copies_of_the_same_numbers():
    nets = [
        manual.MLP([3, 4, 2], activation="relu", output_activation="softmax", loss="cross_entropy", seed=s)
        for s in range(4)
    ]
    ens = manual.Ensemble.from_nets(nets)
    again = manual.Ensemble.from_params(
        ens.params, activation="relu", output_activation="softmax", loss="cross_entropy"
    )
    assert ens.spec() == again.spec() == nets[0].spec() and len(ens) == 4
    for e in (ens, again):
        for i, net in enumerate(nets):
            np.testing.assert_array_equal(e.net(i).params[1]["W"], net.params[1]["W"])
    nets[0].params[0]["W"][...] = 7.0  # the ensemble holds copies
    ens.net(1).params[0]["W"][...] = 7.0  # and net(i) is one
    assert not (ens.params[0]["W"][:2] == 7.0).any()


def test_forward_is_every_net_forward():
    ens = manual.Ensemble([3, 5, 2], 4, activation="tanh", output_activation="softmax", seeds=range(4))
    x = np.random.default_rng(0).standard_normal((4, 6, 3))
    out = ens.forward(x)
    assert out.shape == (4, 6, 2)
    for i in range(4):
        np.testing.assert_allclose(out[i], ens.net(i).forward(x[i]), rtol=1e-14)
        np.testing.assert_allclose(ens.forward(x[0])[i], ens.net(i).forward(x[0]), rtol=1e-14)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: manual.Ensemble([2, 1]), "n_nets: expected a count >= 1"),
        (lambda: manual.Ensemble([2, 1], 2, seeds=[1]), r"seeds: expected one seed per net \(2\), got 1"),
        (lambda: manual.Ensemble([2, 1], seeds=[1, -1]), "seed: expected None or an int >= 0, got -1"),
        (lambda: manual.Ensemble([2, 1], seeds=5), "seeds: expected ints >= 0, one per net, got 5"),
        (lambda: manual.Ensemble([2, 1], n_nets="x", seeds=[1]), "n_nets: expected a count >= 1"),
        (lambda: manual.Ensemble.from_params([{"W": np.ones((0, 2, 1))}]), "expected at least one net"),
        (
            lambda: manual.Ensemble.from_params([{"W": np.array([[[1.0]], [[np.nan]]])}]),
            r"params of net 1 \(the arrays' first axis\): .*finite",
        ),
        (
            lambda: manual.gradcheck(manual.Ensemble([2, 1], 2), np.zeros((1, 2)), np.zeros((1, 1))),
            "net: expected a manual.MLP",
        ),
        (lambda: manual.Ensemble.from_nets([manual.MLP([2, 1]), manual.MLP([2, 2])]), "one architecture"),
        (lambda: manual.Ensemble.from_nets([]), "non-empty list of manual.MLP"),
        (
            lambda: manual.Ensemble.from_params([{"W": np.ones((2, 3, 1)), "b": np.ones((3, 1))}]),
            "expected one count",
        ),
        (lambda: manual.Ensemble([2, 1], 3).net(3), r"expected an index in \[-3, 3\), got 3"),
    ],
)
def test_bad_construction_says_what_was_expected(call, message):
    with pytest.raises((ValueError, TypeError, IndexError), match=message):
        call()


@pytest.mark.parametrize(
    "x,y,message",
    [
        (
            np.zeros((4, 3)),
            np.zeros((4, 1)),
            r"x: expected shape \(batch, 2\) \(2 features per row\), got shape \(4, 3\)",
        ),
        (
            np.zeros((2, 4, 2)),
            np.zeros((4, 1)),
            r"x: per-net data is \(N, batch, n_in\) = \(3, batch, 2\), got shape \(2, 4, 2\)",
        ),
        (
            np.zeros((4, 2)),
            np.zeros((3, 5, 1)),
            r"y: expected 4 samples per net, as x has, got shape \(3, 5, 1\)",
        ),
        (np.zeros((4, 2)), np.zeros((3, 4, 2)), r"y: per-net data is \(N, batch, n_out\) = \(3, batch, 1\)"),
        (np.zeros((4, 2), np.float32), np.zeros((4, 1)), "x: expected dtype float64"),
        (
            np.where(np.arange(24).reshape(3, 4, 2) == 18, np.nan, 0.0),
            np.zeros((4, 1)),
            r"x: expected finite values, got nan at index \(2, 1, 0\)",
        ),
    ],
)
def test_bad_data_says_what_was_expected_and_leaves_the_nets_alone(x, y, message):
    ens = manual.Ensemble([2, 2, 1], 3)
    before = [layer["W"].copy() for layer in ens.params]
    with pytest.raises((ValueError, TypeError), match=message):
        ens.loss_and_grads(x, y)
    with pytest.raises((ValueError, TypeError), match=message):
        manual.train(ens, x, y, manual.SGD(lr=0.1), 1)
    for b, layer in zip(before, ens.params):
        np.testing.assert_array_equal(b, layer["W"])


@pytest.mark.parametrize(
    "n_nets,optimizer,message",
    [
        (None, lambda: manual.SGD(lr=[0.1, 0.2]), r"per-net settings for 2 nets need a manual.Ensemble of 2"),
        (3, lambda: manual.SGD(lr=[0.1, 0.2]), r"per-net settings for 2 nets need"),
        (
            2,
            lambda: manual.SGD(lr=[0.1, 0.2], momentum=[0.9, 0.9, 0.9]),
            r"different lengths: \{'lr': 2, 'momentum': 3\}",
        ),
        (2, lambda: manual.SGD(lr=[0.1, -0.2]), "lr: expected a positive finite number.*at net 1"),
        (2, lambda: manual.SGD(lr=[[0.1, 0.2]]), "lr: expected a number, or a 1-D array"),
        (2, lambda: manual.Adam(betas=([0.9, 1.0], 0.99)), r"betas: .*\[0, 1\).*at net 1"),
    ],
)
def test_bad_per_net_settings_say_what_was_expected(n_nets, optimizer, message):
    with pytest.raises(ValueError, match=message):
        net = manual.MLP([2, 1]) if n_nets is None else manual.Ensemble([2, 1], n_nets)
        manual.train(net, np.zeros((4, 2)), np.zeros((4, 1)), optimizer(), 1)


# ------------------------------------------------------------------ training

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])
LRS = np.repeat([0.05, 0.1, 0.5, 1.0, 2.0], 4)  # 20 nets: 5 learning rates x 4 starts


def trajectory_case(case):
    """(ensemble, x, y, lr, epochs, batch_size, shuffle_seed): 1,000 steps either way."""
    if case == "xor-full-batch":
        ens = manual.Ensemble([2, 2, 1], seeds=range(len(LRS)))
        return ens, XOR_X, XOR_Y, LRS, 1000, None, None
    ens = make_ensemble("tanh-softmax-ce-mean", np.float64, 6)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 64, 3))
    y = np.eye(3)[(x.sum(axis=2) > 0).astype(int) + (x[..., 0] > 1)]  # per-net data: (6, 64, 3)
    return ens, x, y, np.array([0.01, 0.03, 0.1, 0.2, 0.3, 0.5]), 250, 20, 7


@functools.cache
def engine_run(case):
    ens, x, y, lr, epochs, batch_size, shuffle_seed = trajectory_case(case)
    return manual.train(ens, x, y, manual.SGD(lr=lr), epochs, batch_size, shuffle_seed)


@pytest.mark.parametrize("reference", ["torch", "jax"])
@pytest.mark.parametrize("case", ["xor-full-batch", "per-net-data-minibatch"])
def test_every_net_follows_the_vmapped_frameworks_for_1000_steps(case, reference):
    """float64, per-net learning rates: each net's loss at every step, and its final
    params, within the trajectory tolerance of torch.func's and jax.vmap's SGD."""
    require(reference)
    ens, x, y, lr, epochs, batch_size, shuffle_seed = trajectory_case(case)
    mine = engine_run(case)
    theirs = backends.ensemble_train(reference, ens, x, y, lr, epochs, batch_size, shuffle_seed)
    assert mine.losses.shape == theirs.losses.shape == (1000, ens.n_nets)
    assert (mine.frozen == -1).all()
    tol = tolerance("trajectory", np.float64).rtol
    gap = trajectory_gap(mine, theirs)
    worst = np.unravel_index(gap.loss.argmax(), gap.loss.shape)
    assert gap.loss.max() <= tol, f"net {worst[1]} at step {worst[0]}: relative loss gap {gap.loss.max():.2e}"
    for net in range(ens.n_nets):
        for a, b in zip(mine.params, theirs.params):
            for k in b:
                np.testing.assert_allclose(a[k][net], b[k][net], rtol=tol, atol=tol * np.abs(b[k][net]).max())
    # the runs went somewhere: every net's loss moved by far more than the tolerance
    assert (np.abs(mine.losses[-1] - mine.losses[0]) > 1e3 * tol * mine.losses[0]).all()


OPTIMIZERS = {
    "sgd-momentum-per-net": lambda: manual.SGD(lr=[0.1, 0.3, 0.5], momentum=[0.0, 0.5, 0.9]),
    "nesterov-weight-decay": lambda: manual.SGD(
        lr=0.5, momentum=0.9, nesterov=True, weight_decay=[0, 1e-3, 1e-2]
    ),
    "adam-per-net": lambda: manual.Adam(lr=[1e-3, 1e-2, 1e-1], betas=([0.9, 0.8, 0.5], 0.999)),
    "adamw": lambda: manual.AdamW(lr=0.01, weight_decay=[0.0, 0.01, 0.1]),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_net_i_of_a_run_is_the_net_trained_alone(name):
    """Every optimizer, per-net settings: net i follows the single-net engine trained
    from its start with net i's settings (which torch.optim checks: test_trajectories)."""
    ens = manual.Ensemble(
        [2, 2, 1], seeds=[4, 5, 6], activation="tanh", output_activation="sigmoid", loss="bce"
    )
    optimizer = OPTIMIZERS[name]()
    run = manual.train(ens, XOR_X, XOR_Y, optimizer, 300, batch_size=3, shuffle_seed=1)
    tol = tolerance("trajectory", np.float64).rtol
    for i in range(3):
        settings = {
            k: (
                v[i]
                if isinstance(v, list)
                else [b[i] if isinstance(b, list) else b for b in v]
                if isinstance(v, tuple)
                else v
            )
            for k, v in optimizer.config().items()
            if k != "name"
        }
        alone = manual.train(
            ens.net(i), XOR_X, XOR_Y, type(optimizer)(**settings), 300, batch_size=3, shuffle_seed=1
        )
        np.testing.assert_allclose(run.losses[:, i], alone.losses, rtol=tol, err_msg=f"net {i}")
        assert abs(alone.losses[-1] - alone.losses[0]) > 1e-3, "the run must move"
        for a, b in zip(run.net.net(i).params, alone.params):
            for k in b:
                np.testing.assert_allclose(
                    a[k], b[k], rtol=tol, atol=tol * np.abs(b[k]).max(), err_msg=f"net {i}"
                )


def test_a_diverging_net_is_frozen_and_the_others_go_on():
    """One learning rate too large: that net's loss overflows; it is reported with the
    step it happened at and frozen there, the other nets train as they would alone,
    and no NumPy warning escapes (the suite turns warnings into errors)."""
    ens = manual.Ensemble(
        [2, 8, 2], seeds=[1, 2, 3], activation="relu", output_activation="identity", init="he"
    )
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 2)), rng.standard_normal((16, 2))
    run = manual.train(ens, x, y, manual.SGD(lr=[0.01, 3.0, 0.02]), 300, record_every=1)
    frozen = int(run.frozen[1])
    assert run.frozen.tolist() == [-1, frozen, -1] and 0 < frozen < 300
    assert not np.isfinite(run.losses[frozen, 1]) and np.isfinite(run.losses[:frozen, 1]).all()
    at_freeze = dict(run.snapshots)[frozen]
    for a, b in zip(run.params, at_freeze):
        np.testing.assert_array_equal(a["W"][1], b["W"][1])
    for i, lr in [(0, 0.01), (2, 0.02)]:
        alone = manual.train(ens.net(i), x, y, manual.SGD(lr=lr), 300)
        np.testing.assert_allclose(run.losses[:, i], alone.losses, rtol=1e-12)


@pytest.mark.parametrize(
    "per_net,number",
    [
        (lambda: manual.SGD(lr=[0.1] * 3, momentum=[0.9] * 3), lambda: manual.SGD(lr=0.1, momentum=0.9)),
        (lambda: manual.Adam(lr=[0.01] * 3, betas=([0.9] * 3, 0.999)), lambda: manual.Adam(lr=0.01)),
        (
            lambda: manual.AdamW(lr=[0.01] * 3, weight_decay=[0.1] * 3),
            lambda: manual.AdamW(lr=0.01, weight_decay=0.1),
        ),
    ],
    ids=["sgd-momentum", "adam", "adamw"],
)
def test_a_float32_ensemble_rounds_per_net_settings_as_numbers(per_net, number):
    """A per-net setting is float64 as given; the step derives what it needs from it
    (1 - beta, the bias corrections) in float64 and rounds that to the net's dtype,
    as NumPy does a number: the same settings per net and as numbers train to the same bits."""
    ens = manual.Ensemble([2, 2, 1], seeds=[0, 1, 2], dtype=np.float32)
    x, y = XOR_X.astype(np.float32), XOR_Y.astype(np.float32)
    a, b = manual.train(ens, x, y, per_net(), 200), manual.train(ens, x, y, number(), 200)
    assert a.losses.dtype == np.float32 and a.params[0]["W"].dtype == np.float32
    np.testing.assert_array_equal(a.losses, b.losses)
    for pa, pb in zip(a.params, b.params):
        for k in pb:
            np.testing.assert_array_equal(pa[k], pb[k])


def test_a_step_without_validation_arranges_the_data_as_a_checked_one():
    """Per-net x, shared y: validate=False skips the checks, not the layout."""
    ens = manual.Ensemble([2, 3, 2], seeds=[0, 1])
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 5, 2)), rng.random((5, 2))
    checked = manual.Trainer(ens.copy(), manual.SGD(lr=0.1))
    unchecked = manual.Trainer(ens.copy(), manual.SGD(lr=0.1))
    for _ in range(3):
        np.testing.assert_array_equal(checked.step(x, y), unchecked.step(x, y, validate=False))
    np.testing.assert_array_equal(checked.net.params[0]["W"], unchecked.net.params[0]["W"])


def test_per_net_settings_refuse_the_optimizers_own_step():
    """opt.step takes params as given (nets first for an ensemble), where per-net settings
    would broadcast over the wrong axis: only Trainer and train lay them out."""
    ens = manual.Ensemble([2, 3, 3], 3)
    opt = manual.SGD(lr=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="has per-net settings: step an ensemble with manual.Trainer"):
        opt.step(ens.params, ens.loss_and_grads(XOR_X[:3], np.eye(3))[1], opt.init(ens.params))


def test_a_trainer_refuses_a_state_made_for_another_net():
    state = manual.SGD(lr=0.1, momentum=0.9).init(manual.MLP([2, 2, 2]).params)
    with pytest.raises(ValueError, match=r"state: optimizer buffer 'momentum_buffer' has shapes \[\(2, 2\)"):
        manual.Trainer(manual.Ensemble([2, 2, 2], 2), manual.SGD(lr=0.1, momentum=0.9), state)


def diverging():
    """Net 1's data holds a target of 1e200: its loss overflows at its first step on it."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 8, 2)), rng.random((2, 8, 1))
    y[1, 6] = 1e200
    return manual.Ensemble([2, 3, 1], seeds=[0, 1], activation="tanh", output_activation="identity"), x, y


def test_resuming_a_run_with_a_frozen_net_is_the_unbroken_run():
    ens, x, y = diverging()
    opt = manual.SGD(lr=0.1, momentum=0.5)
    whole = manual.train(ens, x, y, opt, 4, batch_size=4)
    first = manual.train(ens, x, y, opt, 1, batch_size=4)
    rest = manual.train(first.net, x, y, opt, 3, batch_size=4, resume=first.state)
    assert whole.frozen.tolist() == rest.frozen.tolist() == [-1, 1]
    np.testing.assert_array_equal(np.concatenate([first.losses, rest.losses]), whole.losses)
    for a, b in zip(rest.params, whole.params):
        for k in b:
            np.testing.assert_array_equal(a[k], b[k])


def test_an_update_that_overflows_warns_nothing_and_freezes_its_net():
    """float32, lr 1e4 with weight decay: net 1's update overflows before its loss does."""
    ens = manual.Ensemble(
        [2, 8, 1], seeds=[1, 2], activation="tanh", output_activation="sigmoid", loss="bce", dtype=np.float32
    )
    x, y = XOR_X.astype(np.float32), XOR_Y.astype(np.float32)
    run = manual.train(ens, x, y, manual.SGD(lr=[1e-3, 1e4], weight_decay=0.1), 30)
    assert run.frozen[0] == -1 and run.frozen[1] > 0
    assert np.isfinite(run.losses[:, 0]).all()


# ------------------------------------------------------------------ what it catches

ENSEMBLE = "manual.ensemble"
ENSEMBLE_MUTANTS = [
    mutants.Mutant(
        "hidden derivative dropped",
        "ensemble",
        (
            (
                ENSEMBLE,
                "ws.delta[l - 1] *= activations[l - 1].derivative(ws.a[l], out=ws.work[l - 1])",
                "pass",
            ),
        ),
        "δˡ⁻¹ without f′",
    ),
    mutants.Mutant(
        "net 0's weights for every net",
        "ensemble",
        (
            (
                ENSEMBLE,
                'np.einsum("bjn,ijn->bin", delta, params[l]["W"], out=ws.delta[l - 1])',
                'np.einsum("bjn,ij->bin", delta, params[l]["W"][..., 0], out=ws.delta[l - 1])',
            ),
        ),
        "δˡ⁻¹ = δˡ W₀ᵀ: the nets' axes mixed up",
    ),
    mutants.Mutant(
        "weight grads summed over the nets",
        "ensemble",
        (
            (
                ENSEMBLE,
                'np.einsum(f"{a},bjn->ijn", ws.a[l], delta, out=grads[l]["W"])',
                'grads[l]["W"][...] = np.einsum(f"{a},bjn->ij", ws.a[l], delta)[..., None]',
            ),
        ),
        "∂L/∂W summed over the nets as well as the batch",
    ),
    mutants.Mutant(
        "per-net data read as nets-last",
        "ensemble",
        (
            (
                ENSEMBLE,
                "return np.ascontiguousarray(np.moveaxis(arr, 0, -1))",
                "return np.ascontiguousarray(arr.reshape(arr.shape[1], arr.shape[2], arr.shape[0]))",
            ),
        ),
        "(N, batch, n_in) reshaped where it must be transposed",
    ),
]


@functools.cache
def torch_result(arch, data):
    ens, x, y, *_ = engine_case(arch, np.float64, 7, data)
    return backends.ensemble_loss_and_grads("torch", ens, x, y)


@pytest.mark.parametrize("mutant", ENSEMBLE_MUTANTS, ids=[m.name for m in ENSEMBLE_MUTANTS])
def test_the_parity_matrix_catches_mistakes_in_the_ensemble(mutant, monkeypatch):
    """Each planted in manual/ensemble.py (tests/mutants.py plants it), then the float64
    N = 7 half of the matrix run against torch: some configuration must fail."""
    require("torch")
    cases = [(arch, data) for arch in ARCHS for data in ("shared", "per-net")]
    expected = {case: torch_result(*case) for case in cases}
    mutants.plant(mutant, monkeypatch)
    failing = []
    for arch, data in cases:
        ens, x, y, _, scale, _ = engine_case(arch, np.float64, 7, data)
        try:
            with np.errstate(all="ignore"):
                mine = ens.loss_and_grads(x, y)
            assert_ensemble_grads_close(ens, x, y, mine, expected[arch, data], scale=scale)
        except (AssertionError, ValueError):
            failing.append(f"{arch}-{data}")
    assert failing, f"{mutant.name} survives all {len(cases)} configurations"
