"""scikit-learn's MLP as a reference: gradients over every net it expresses,
1,000-step trajectories for its SGD rules, its Adam's ε measured and bounded,
and the multi-output regressor whose gradient is not its loss's.

docs/sklearn.md maps each convention; the numbers quoted there come from here.
"""

import functools

import numpy as np
import pytest
from test_trajectories import BATCHING, problem, run

import manual
from crosscheck import backends
from crosscheck.compare import max_errors, params_gap, trajectory_gap
from crosscheck.testing import assert_grads_close
from crosscheck.tolerances import tolerance
from crosscheck.verify import Case, verify_case
from references import sklearn_ref

from conftest import require
from helpers import make_data
from test_parity import detectable

DETECT = {np.float64: 1e-6, np.float32: 1e-3}  # as test_parity: what every compared array must reveal
HIDDEN = ["identity", "sigmoid", "tanh", "relu"]
OUTPUTS = {
    "regression": ("identity", "mse", 1),
    "binary": ("sigmoid", "bce", 1),
    "multiclass": ("softmax", "cross_entropy", 4),
}


def sk_net(hidden, task, dtype, l2=0.0, seed=0, n_out=None, widths=(5, 6)):
    out, loss, k = OUTPUTS[task]
    return manual.MLP(
        [*widths, n_out or k],
        activation=hidden,
        output_activation=out,
        loss=loss,
        reduction="mean",
        init="xavier",
        seed=seed,
        dtype=dtype,
        l2=l2,
    )


@pytest.fixture(autouse=True)
def _sklearn():
    require("sklearn")


# ------------------------------------------------------------------ gradients


# float32 cannot see 1e-3 through a sigmoid hidden layer under a log-loss output
# (the best of the candidates reveals 1.3e-3 to 1.9e-3); float64 covers them
LEFT_OUT = {("sigmoid", "binary", np.float32), ("sigmoid", "multiclass", np.float32)}
GRADIENT_CASES = [
    (hidden, task, dtype, l2)
    for hidden in HIDDEN
    for task in OUTPUTS
    for dtype in (np.float64, np.float32)
    for l2 in (0.0, 0.5)
    if (hidden, task, dtype) not in LEFT_OUT
]


def case_id(case):
    hidden, task, dtype, l2 = case
    return f"{hidden}-{task}-{np.dtype(dtype).name}-l2={l2}"


@pytest.mark.parametrize("hidden,task,dtype,l2", GRADIENT_CASES, ids=map(case_id, GRADIENT_CASES))
def test_gradients_agree_with_sklearn(hidden, task, dtype, l2):
    net, x, y, mine = informative(hidden, task, dtype, l2)
    theirs = backends.loss_and_grads("sklearn", net, x, y)
    assert_grads_close(net, x, y, mine, theirs, names=("manual", "sklearn"))
    out = backends.forward("sklearn", net, x)
    np.testing.assert_allclose(out, net.forward(x), rtol=0, atol=4 * np.finfo(dtype).eps)


CANDIDATES = 40
WIDTHS = [(5, 6), (3, 4), (2, 3), (2, 2), (1, 2)]  # smaller nets sum fewer terms: float32 sees finer there
BATCH = {np.float64: 9, np.float32: 4}  # as test_parity: float32 sums of many samples hide errors


def informative(hidden, task, dtype, l2):
    """``(net, x, y, its (loss, grads))``: the first of ``CANDIDATES`` starts whose every
    gradient array is informative (test_parity's rule)."""
    worst = []
    for seed in range(CANDIDATES):
        net = sk_net(hidden, task, dtype, l2, seed=seed, widths=WIDTHS[seed % len(WIDTHS)])
        x, y = one_sided_data(net, BATCH[dtype], seed)
        mine = net.loss_and_grads(x, y)
        worst.append(max(detectable(net, x, y, mine).values()))
        if worst[-1] <= DETECT[dtype]:
            return net, x, y, mine
    raise AssertionError(f"no informative start: the best reveals a relative error of {min(worst):.1e}")


@pytest.mark.parametrize("hidden,task,dtype", sorted(LEFT_OUT, key=str))
def test_what_is_left_out_cannot_be_made_informative(hidden, task, dtype):
    with pytest.raises(AssertionError, match="no informative start"):
        informative(hidden, task, dtype, 0.0)


def one_sided_data(net, batch, seed=1):
    """Positive inputs and targets on one side of every output (regression: below;
    classes: all 1, or all class 0): no gradient entry is a sum that cancels to
    nearly nothing, so each compared array is informative (float32 included)."""
    rng = np.random.default_rng(seed)
    x = 0.5 + rng.random((batch, net.sizes[0]))
    n_out = net.sizes[-1]
    if net.loss_name == "mse":
        y = -3 - rng.random((batch, n_out))
    elif net.loss_name == "bce":
        y = np.ones((batch, n_out))
    else:
        y = np.eye(n_out)[np.zeros(batch, int)]
    return x.astype(net.dtype), y.astype(net.dtype)


@pytest.mark.parametrize("outputs", [2, 3, 5])
def test_a_multi_output_regressors_gradient_is_k_times_its_losss(outputs):
    """MLPRegressor reports ½·mean over samples and outputs, but its output delta
    is (a − y) / n_samples: its gradient is k times its own loss's gradient.
    Its loss is the engine's; the engine's gradient is the finite differences of
    scikit-learn's own loss."""
    net = sk_net("tanh", "regression", np.float64, n_out=outputs)
    x, y = make_data(net, 9, seed=2)
    spec, params = net.spec(), net.params
    loss, grads = sklearn_ref.loss_and_grads(spec, params, x, y)
    mine_loss, mine = net.loss_and_grads(x, y)
    assert loss == pytest.approx(mine_loss, rel=1e-14)
    fd = _numeric_grads(lambda p: sklearn_ref.loss_and_grads(spec, p, x, y)[0], params)
    for l, (g, m, f) in enumerate(zip(grads, mine, fd), start=1):
        for k in g:
            np.testing.assert_allclose(m[k], f[k], rtol=1e-6, atol=1e-9, err_msg=f"engine {k}{l} vs FD")
            np.testing.assert_allclose(g[k], outputs * f[k], rtol=1e-6, atol=1e-9, err_msg=f"{k}{l}")


def _numeric_grads(loss, params, eps=1e-6):
    out = []
    for l, layer in enumerate(params):
        out.append({})
        for k, v in layer.items():
            g = np.zeros_like(v)
            for i in np.ndindex(v.shape):
                shifted = []
                for sign in (1, -1):
                    p = [{kk: vv.copy() for kk, vv in lay.items()} for lay in params]
                    p[l][k][i] += sign * eps
                    shifted.append(loss(p))
                g[i] = (shifted[0] - shifted[1]) / (2 * eps)
            out[l][k] = g
    return out


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (dict(reduction="sum"), "reduction 'sum'"),
        (dict(bias=False), "without bias"),
        (dict(sizes=[5, 6, 6, 1], activation=["relu", "tanh", "identity"]), "hidden activations"),
        (dict(activation="leaky_relu", output_activation="identity"), "hidden activations"),
        (dict(output_activation="sigmoid"), "mse on a sigmoid output"),
        (dict(sizes=[5, 6, 2], output_activation="sigmoid", loss="bce"), "bce with 2 outputs"),
        (dict(sizes=[5, 6, 2], output_activation="softmax", loss="cross_entropy"), "softmax with 2 outputs"),
    ],
)
def test_a_net_sklearn_cannot_express_is_refused_with_the_reason(kwargs, reason):
    args = dict(sizes=[5, 6, 1], activation="tanh", output_activation="identity", reduction="mean")
    args.update(kwargs)
    net = manual.MLP(args.pop("sizes"), **args)
    assert reason in backends.unsupported("sklearn", net)
    x, y = make_data(net, 3)
    with pytest.raises(ValueError, match="scikit-learn cannot express this net: .*" + reason):
        backends.loss_and_grads("sklearn", net, x, y)


@pytest.mark.parametrize(
    "optimizer, reason",
    [(manual.AdamW(lr=1e-3), "optimizer 'adamw'"), (manual.SGD(lr=0.1, weight_decay=0.1), "weight_decay")],
)
def test_an_optimizer_sklearn_lacks_is_refused(optimizer, reason):
    net = sk_net("tanh", "regression", np.float64)
    assert reason in backends.unsupported("sklearn", net, optimizer)


def test_a_multi_output_regressor_is_built_but_not_compared():
    """Its gradient is k times its loss's (the finding above): verify must not judge the
    engine by it, though sklearn_ref still computes it."""
    net = sk_net("tanh", "regression", np.float64, n_out=3)
    assert backends.unsupported("sklearn", net) == (
        "mse with 3 outputs (its gradient is 3x that of the loss it reports)"
    )
    x, y = make_data(net, 4)
    case = Case("three outputs", "", net, x, y, None, peers=("sklearn",))
    report = verify_case(case, finite_differences=False)
    assert "sklearn" in report.not_compared and all(g.framework != "sklearn" for g in report.gradients)


def test_ctrl_c_during_partial_fit_stops_the_run(monkeypatch):
    """scikit-learn catches KeyboardInterrupt inside its epoch and only warns; the
    reference raises it, so a run never goes on half-updated."""
    from sklearn.neural_network import MLPClassifier

    calls = []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, *args)

    original = MLPClassifier._backprop
    monkeypatch.setattr(MLPClassifier, "_backprop", interrupted)
    net = sk_net("tanh", "binary", np.float64)
    x, y = one_sided_data(net, 4)
    batches = [np.arange(4)] * 10
    with pytest.raises(KeyboardInterrupt):
        sklearn_ref.train(net.spec(), net.params, x, y, manual.SGD(lr=0.1).config(), batches)
    assert len(calls) == 3


def test_a_numpy_l2_is_a_number_to_the_references_too():
    spec = sk_net("tanh", "regression", np.float64).spec()
    assert sklearn_ref.supports({**spec, "l2": np.float32(0.5)}) is None
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0, got -1"):
        sklearn_ref.supports({**spec, "l2": -1})


def test_soft_targets_are_refused_by_the_classifier():
    net = sk_net("tanh", "binary", np.float64)
    x, _ = make_data(net, 4)
    with pytest.raises(ValueError, match="expected 0/1 targets"):
        sklearn_ref.train(
            net.spec(), net.params, x, np.full((4, 1), 0.3), manual.SGD(lr=0.1).config(), [np.arange(4)]
        )


# ------------------------------------------------------------------ training: SGD, step for step

SGD_RUNS = [("sgd", "minibatch"), ("sgd-momentum", "minibatch"), ("sgd-nesterov", "minibatch")]


@pytest.mark.parametrize("opt,batching", SGD_RUNS, ids=["-".join(r) for r in SGD_RUNS])
def test_sklearn_sgd_follows_the_engine_for_1000_steps(opt, batching):
    """test_trajectories' problem (a 4-16-8-3 tanh net, cross-entropy, shuffled
    batches of 20 with a short 4): scikit-learn's velocity form v ← μv − ηg,
    p ← p + v (Nesterov: p ← p + μv − ηg) and PyTorch's b ← μb + g, p ← p − ηb
    are one rule for a constant η (v = −ηb), so the engine (PyTorch's form) and
    partial_fit walk the same path."""
    a = run("manual", "cross_entropy", opt, batching, "float64")
    b = run("sklearn", "cross_entropy", opt, batching, "float64")
    _assert_same_path(a, b, problem("cross_entropy", np.float64)[0])


def _assert_same_path(a, b, start):
    rtol = tolerance("trajectory", np.float64).rtol
    assert len(a.losses) == len(b.losses) == 1000
    gap = trajectory_gap(a, b)
    worst = int(np.argmax(gap.loss))
    assert gap.loss.max() <= rtol, f"loss differs by {gap.loss[worst]:.2e} at step {worst}"
    for l, (pa, pb) in enumerate(zip(a.params, b.params), start=1):
        for k in pb:
            assert max_errors(pa[k], pb[k])[1] <= rtol, f"final {k}{l} differs"
    assert params_gap(a.params, start.params) > 1e-3  # the run went somewhere


@functools.cache
def l2_run(backend, l2_in="loss"):
    """Momentum SGD on the trajectory problem with scikit-learn's alpha = 0.1,
    as the net's l2 (the loss), or as weight decay α / 20 in the optimizer."""
    net, x, y = problem("cross_entropy", np.float64)
    if l2_in == "loss":
        net = manual.MLP.from_params(
            net.params, activation=list(net.activations), loss=net.loss_name, reduction="mean", l2=0.1
        )
        opt = manual.SGD(lr=0.05, momentum=0.9)
    else:
        opt = manual.SGD(lr=0.05, momentum=0.9, weight_decay=0.1 / 20)
    return backends.train(backend, net, x, y, opt, **BATCHING["minibatch"])


@pytest.mark.parametrize("backend", ["sklearn", "torch"])
def test_the_l2_penalty_follows_sklearns_alpha_for_1000_steps(backend):
    """alpha's ½·α·‖W‖² / n_samples on the weights only, with the short last batch
    dividing by 4: the engine's l2, torch's and sklearn's trajectories coincide."""
    require(backend)
    start = problem("cross_entropy", np.float64)[0]
    _assert_same_path(l2_run("manual"), l2_run(backend), start)


def test_weight_decay_is_not_sklearns_alpha():
    """Why the engine has an l2 in the loss: SGD's weight_decay = α / batch also
    decays the biases and divides the short last batch's term by 20, not 4."""
    # (the losses differ anyway: weight decay's run reports no penalty term)
    gap = params_gap(l2_run("manual", "weight_decay").params, l2_run("sklearn").params)
    assert gap > 1e3 * tolerance("trajectory", np.float64).rtol


def test_sklearns_velocity_form_is_pytorchs_momentum_for_a_constant_lr():
    """The optimizers alone, on one sequence of gradients: scikit-learn's
    SGDOptimizer and torch.optim.SGD agree for a constant η, with and without
    Nesterov; with η changed mid-run they part (v carries the old η)."""
    require("torch")
    import torch
    from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

    rng = np.random.default_rng(0)
    grads = rng.standard_normal((50, 7))
    for nesterov in (False, True):
        for lrs in ([0.1] * 50, [0.1] * 25 + [0.02] * 25):
            p_sk = [np.ones(7)]
            sk = SGDOptimizer(p_sk, learning_rate_init=lrs[0], momentum=0.9, nesterov=nesterov)
            p_t = torch.ones(7, dtype=torch.float64, requires_grad=True)
            opt = torch.optim.SGD([p_t], lr=lrs[0], momentum=0.9, nesterov=nesterov)
            for lr, g in zip(lrs, grads):
                sk.learning_rate = lr
                for group in opt.param_groups:
                    group["lr"] = lr
                sk.update_params(p_sk, [g])
                p_t.grad = torch.from_numpy(g.copy())
                opt.step()
            gap = np.abs(p_sk[0] - p_t.detach().numpy()).max()
            if len(set(lrs)) == 1:
                assert gap < 1e-13, f"nesterov={nesterov}: {gap:.1e}"
            else:
                assert gap > 1e-3, f"nesterov={nesterov}: a changed η should part them, gap {gap:.1e}"


# ------------------------------------------------------------------ Adam: ε in another place


@functools.cache
def adam_run(backend, eps):
    net, x, y = problem("cross_entropy", np.float64)
    return backends.train(backend, net, x, y, manual.Adam(lr=1e-3, eps=eps), **BATCHING["minibatch"])


def test_sklearns_adam_is_the_engines_but_for_eps():
    """With ε negligible (1e-300) the rules are one: step
    η·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/√v either way, and the paths coincide for 1,000 steps."""
    _assert_same_path(
        adam_run("manual", 1e-300), adam_run("sklearn", 1e-300), problem("cross_entropy", np.float64)[0]
    )


def test_sklearns_adam_eps_gap_is_measured_and_bounded():
    """scikit-learn adds ε to √v, PyTorch and the engine to √v̂ = √v/√(1−β₂ᵗ): in
    the engine's form scikit-learn's ε is ε/√(1−β₂ᵗ), from 31.6ε at step 1 down
    to ε. Its path lies within the engine's paths for ε and the largest ε it
    ever uses, 31.6ε (the gap grows with ε, so the larger shift bounds it): both
    measured with torch.optim.Adam, the reference the engine's Adam is held to."""
    require("torch")
    eps = 1e-8
    gap = trajectory_gap(adam_run("torch", eps), adam_run("sklearn", eps)).loss.max()
    bound = trajectory_gap(adam_run("torch", eps), adam_run("torch", eps / np.sqrt(1 - 0.999))).loss.max()
    assert tolerance("trajectory", np.float64).rtol < gap <= bound, f"gap {gap:.2e}, bound {bound:.2e}"
