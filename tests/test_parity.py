"""Gradient parity: manual, PyTorch and JAX compute the same loss and the same
gradients over a matrix of activations, losses, reductions, dtypes and batch
sizes, on architectures of depth 1 to 4 and widths 1 to 64.

Every compared array is informative: a relative error of 1e-6 (float64) or
1e-3 (float32) in it would exceed the tolerance (``smallest_detectable``).
For each combination the matrix takes the first of a fixed list of candidate
nets (architectures and seeds in turn) that is; mse targets lie below the
output's range, so output errors do not cancel over the batch. What cannot be
made informative is left out, and said: float32 with mse on a softmax output
(its Jacobian product cancels: at best ~2e-2 is detectable) and float32 at
batch 128 (sums over 128 samples of either sign); float64 covers both.
Batches: 1 and 128 in float64, 1 and 4 (the seeds' XOR) in float32.
"""

import functools
import itertools

import numpy as np
import pytest

import manual
from crosscheck import backends, examples
from crosscheck.compare import rounding_scale, smallest_detectable
from crosscheck.testing import assert_grads_close

from conftest import PAIR_IDS, PAIRS, require
from helpers import make_data

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
# every loss with the output activations it takes (mse takes any; softmax is its non-elementwise case)
LOSS_OUTPUTS = [("mse", None), ("mse", "softmax"), ("bce", "sigmoid"), ("cross_entropy", "softmax")]
REDUCTIONS = ["sum", "mean"]
BATCHES = {np.float64: (1, 128), np.float32: (1, 4)}
# depth 1 to 4, widths 1 to 64; the seeds' 2-2-1 and 1-2-1 included
ARCHS = [
    [2, 2, 1],
    [1, 2, 1],
    [3, 2],
    [2, 16, 1],
    [4, 1, 3],
    [5, 64, 3],
    [3, 8, 8, 2],
    [6, 32, 16, 8, 4],
    [2, 64, 64, 2],
]
DETECT = {np.float64: 1e-6, np.float32: 1e-3}  # the relative error every compared array must reveal
CANDIDATES = 40
# how far below the output's range mse targets start
BELOW = {"sigmoid": 1.0, "softmax": 1.0, "relu": 1.0, "tanh": 2.0, "leaky_relu": 4.0, "identity": 4.0}


def combinations():
    for i, (act, (loss, output), reduction, dtype) in enumerate(
        itertools.product(ACTIVATIONS, LOSS_OUTPUTS, REDUCTIONS, [np.float64, np.float32])
    ):
        if dtype == np.float32 and (loss, output) == ("mse", "softmax"):
            continue
        for j, batch in enumerate(BATCHES[dtype]):
            yield dict(
                activation=act,
                output_activation=output,
                loss=loss,
                reduction=reduction,
                dtype=dtype,
                batch=batch,
                bias=(i + j) % 4 != 3,
                index=i * 10 + j,
            )


def candidate(combo, k):
    """The k-th candidate net and data of a combination."""
    sizes = list(ARCHS[(combo["index"] + k) % len(ARCHS)])
    if combo["output_activation"] == "softmax" and sizes[-1] == 1:
        sizes[-1] = 3
    seed = 100 * combo["index"] + k
    net = manual.MLP(
        sizes,
        activation=combo["activation"],
        output_activation=combo["output_activation"],
        loss=combo["loss"],
        reduction=combo["reduction"],
        bias=combo["bias"],
        init="xavier",
        seed=seed,
        dtype=combo["dtype"],
    )
    x, y = make_data(net, combo["batch"], seed=seed)
    if net.loss_name == "mse":
        low = BELOW[net.activations[-1]]
        y = (-low - np.random.default_rng(seed).random(y.shape)).astype(net.dtype)
    return net, x, y


def detectable(net, x, y, result):
    """The smallest detectable relative error of each gradient array (the loss
    is a scalar, not a gradient)."""
    found = smallest_detectable(result, rounding_scale(net, x, y), net.dtype)
    return {name: v for name, v in found.items() if name != "loss"}


def informative(combo):
    """``(k, net, x, y)``: the first candidate whose every gradient array is informative, or None."""
    for k in range(CANDIDATES):
        net, x, y = candidate(combo, k)
        if max(detectable(net, x, y, net.loss_and_grads(x, y)).values()) <= DETECT[combo["dtype"]]:
            return k, net, x, y
    return None


def config_id(c):
    out = "" if c["output_activation"] is None else f"-{c['output_activation']}"
    dt = "f64" if c["dtype"] == np.float64 else "f32"
    bias = "" if c["bias"] else "-nobias"
    return f"{c['activation']}-{c['loss']}{out}-{c['reduction']}-{dt}-b{c['batch']}{bias}"


COMBOS = {config_id(c): c for c in combinations()}


@functools.cache
def chosen(cid):
    found = informative(COMBOS[cid])
    assert found is not None, f"{cid}: none of {CANDIDATES} candidates is informative"
    return found


@functools.cache
def result(cid, backend):
    _, net, x, y = chosen(cid)
    return backends.loss_and_grads(backend, net, x, y)


def test_matrix_covers_the_issue():
    cs = list(COMBOS.values())
    assert len(cs) == len(COMBOS) == 140  # ids are unique
    assert {c["activation"] for c in cs} == set(ACTIVATIONS)
    assert {(c["loss"], c["output_activation"]) for c in cs} == set(LOSS_OUTPUTS)
    assert {c["reduction"] for c in cs} == set(REDUCTIONS)
    assert {c["bias"] for c in cs} == {True, False}
    assert {c["batch"] for c in cs} == {1, 4, 128}
    assert {np.dtype(c["dtype"]).name for c in cs} == {"float32", "float64"}
    nets = [chosen(cid)[1] for cid in COMBOS]
    assert {n.n_layers for n in nets} == {1, 2, 3, 4}
    widths = {w for n in nets for w in n.sizes}
    assert min(widths) == 1 and max(widths) == 64


@pytest.mark.parametrize("cid", list(COMBOS))
def test_every_combination_has_an_informative_configuration(cid):
    k, net, *_ = chosen(cid)
    assert 0 <= k < CANDIDATES and net.dtype == COMBOS[cid]["dtype"]


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("cid", list(COMBOS))
def test_gradients_agree(cid, pair):
    require(*pair)
    _, net, x, y = chosen(cid)
    a, b = (result(cid, name) for name in pair)
    assert_grads_close(net, x, y, a, b, names=pair)


@pytest.mark.parametrize("reference", ["torch", "jax"])
@pytest.mark.parametrize("name", examples.CASE_NAMES)
def test_the_seeds_nets_agree_with_both_frameworks(name, reference):
    """Seed 001 included: the frameworks agree with the engine, not with its printed dW1."""
    require(reference)
    case = examples.case(name)
    mine = case.net.loss_and_grads(case.x, case.y)
    theirs = backends.loss_and_grads(reference, case.net, case.x, case.y)
    assert max(detectable(case.net, case.x, case.y, theirs).values()) <= 1e-6
    assert_grads_close(case.net, case.x, case.y, mine, theirs, names=("manual", reference))


def test_backends_return_the_plain_layout_and_dtype(backend):
    net = manual.MLP([3, 4, 2], activation="tanh", bias=False, dtype=np.float32, seed=0)
    x, y = make_data(net, 5)
    before = [{k: v.copy() for k, v in layer.items()} for layer in net.params]
    loss, grads = backends.loss_and_grads(backend, net, x, y)
    assert isinstance(loss, float)
    assert [sorted(g) for g in grads] == [["W"], ["W"]]
    for g, p in zip(grads, net.params):
        assert isinstance(g["W"], np.ndarray) and g["W"].shape == p["W"].shape and g["W"].dtype == np.float32
    # a backend reads the params and never writes them
    for b, layer in zip(before, net.params):
        np.testing.assert_array_equal(b["W"], layer["W"])


@pytest.mark.parametrize("reference", ["torch", "jax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_batch_of_100000_agrees(dtype, reference):
    """The README's largest batch. Every delta is 0.1: summed one row after another
    (np.add.reduce over axis 0), the bias gradient drifts by 1,200 eps in float32,
    past the tolerance; torch and jax sum pairwise, and so must the engine."""
    require(reference)
    n = 100_000
    net = manual.MLP.from_params(
        [{"W": np.zeros((2, 3)), "b": np.zeros(3)}], activation="identity", dtype=dtype
    )
    x = np.random.default_rng(0).uniform(0.5, 1.5, (n, 2)).astype(dtype)
    y = np.full((n, 3), -0.1, dtype)
    mine = net.loss_and_grads(x, y)
    assert max(detectable(net, x, y, mine).values()) <= DETECT[dtype]
    theirs = backends.loss_and_grads(reference, net, x, y)
    assert_grads_close(net, x, y, mine, theirs, names=("manual", reference))


@pytest.mark.parametrize("reference", ["torch", "jax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_the_l2_penalty_agrees_with_both_frameworks(reduction, dtype, reference):
    """l2 = 0.3 on a 3-4-2 identity net (float32 sees 1e-3 there) without a bias in its last
    layer: ½·0.3·Σ‖W‖², divided by the batch for "mean" only, in both frameworks' losses."""
    require(reference)
    params = [
        {"W": np.linspace(-1, 1, 12).reshape(3, 4), "b": np.linspace(0.2, 0.5, 4)},
        {"W": np.linspace(0.5, -0.4, 8).reshape(4, 2)},
    ]
    net = manual.MLP.from_params(params, activation="identity", reduction=reduction, dtype=dtype, l2=0.3)
    x = np.linspace(0.5, 1.5, 15).reshape(5, 3).astype(dtype)
    y = np.full((5, 2), -2.0, dtype)
    mine = net.loss_and_grads(x, y)
    assert max(detectable(net, x, y, mine).values()) <= DETECT[dtype]
    theirs = backends.loss_and_grads(reference, net, x, y)
    assert_grads_close(net, x, y, mine, theirs, names=("manual", reference))


def test_jax_float64_is_local_to_the_reference():
    """jax_ref runs float64 inside jax.enable_x64(True); the caller's JAX stays as it was."""
    require("jax")
    import jax
    import jax.numpy as jnp

    before = jax.config.jax_enable_x64
    net = manual.MLP([2, 3, 1], seed=0)
    x, y = make_data(net, 4)
    _, grads = backends.loss_and_grads("jax", net, x, y)
    assert grads[0]["W"].dtype == np.float64
    assert jax.config.jax_enable_x64 == before
    if not before:
        assert jnp.ones(1).dtype == jnp.float32
