"""Gradient parity: manual, PyTorch and JAX compute the same loss and the same
gradients, over a matrix of architectures, activations, losses, reductions,
bias, dtypes, batch sizes and seeds. The backends are interchangeable: each
test takes two of them and compares their ``loss_and_grads``."""

import functools
import itertools

import numpy as np
import pytest

import manual
from conftest import BACKENDS, require
from helpers import assert_grads_close, make_data
from manual import examples

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
# every loss with the output activations it takes (mse takes any; softmax is its non-elementwise case)
LOSS_OUTPUTS = [("mse", None), ("mse", "softmax"), ("bce", "sigmoid"), ("cross_entropy", "softmax")]
REDUCTIONS = ["sum", "mean"]
DTYPES = [np.float64, np.float32]
BATCHES = [1, 4, 128]
# depth 1 to 4, widths 1 to 64; the seeds' 2-2-1 and 1-2-1 included
ARCHS = [[2, 2, 1], [1, 2, 1], [3, 2], [2, 16, 1], [4, 1, 3], [5, 64, 3], [3, 8, 8, 2], [6, 32, 16, 8, 4], [2, 64, 64, 2]]
INITS = ["xavier", "he", "uniform"]
PAIRS = [("manual", "torch_ref"), ("manual", "jax_ref"), ("torch_ref", "jax_ref")]


def _configs():
    out = []
    combos = itertools.product(ACTIVATIONS, LOSS_OUTPUTS, REDUCTIONS, DTYPES)
    for i, (act, (loss, output), reduction, dtype) in enumerate(combos):
        sizes = ARCHS[i % len(ARCHS)]
        if loss == "cross_entropy" and sizes[-1] == 1:
            sizes = sizes[:-1] + [3]
        for j, batch in enumerate(BATCHES):
            # U[0, 1) (seed 000's init) saturates wide layers: gradients become
            # a - y of outputs that round to the targets, which the comparison's
            # rounding scale (manual.compare) is built to judge
            init = INITS[(i + j) % 3]
            out.append(dict(
                sizes=sizes, activation=act, output_activation=output, loss=loss, reduction=reduction,
                dtype=dtype, batch=batch, bias=(i + j) % 4 != 3, init=init, seed=i * 3 + j,
            ))
    return out


def config_id(c):
    out = "" if c["output_activation"] is None else f"-{c['output_activation']}"
    bias = "" if c["bias"] else "-nobias"
    dt = "f64" if c["dtype"] == np.float64 else "f32"
    sizes = ",".join(map(str, c["sizes"]))
    return f"{c['activation']}-{c['loss']}{out}-{c['reduction']}-{dt}-b{c['batch']}-[{sizes}]{bias}"


CONFIGS = {config_id(c): c for c in _configs()}


def build(c):
    net = manual.MLP(c["sizes"], activation=c["activation"], output_activation=c["output_activation"],
                     loss=c["loss"], reduction=c["reduction"], bias=c["bias"], init=c["init"],
                     seed=c["seed"], dtype=c["dtype"])
    x, y = make_data(net, c["batch"], seed=c["seed"])
    return net, x, y


@functools.lru_cache(maxsize=None)
def result(cid, backend_name):
    net, x, y = build(CONFIGS[cid])
    return BACKENDS[backend_name].loss_and_grads(net, x, y)


def test_matrix_covers_the_issue():
    cs = list(CONFIGS.values())
    assert {c["activation"] for c in cs} == set(ACTIVATIONS)
    assert {(c["loss"], c["output_activation"]) for c in cs} == set(LOSS_OUTPUTS)
    assert {len(c["sizes"]) - 1 for c in cs} == {1, 2, 3, 4}
    widths = {w for c in cs for w in c["sizes"]}
    assert min(widths) == 1 and max(widths) == 64
    assert {c["batch"] for c in cs} == set(BATCHES)
    assert {c["bias"] for c in cs} == {True, False}
    assert {np.dtype(c["dtype"]).name for c in cs} == {"float32", "float64"}
    assert {c["reduction"] for c in cs} == set(REDUCTIONS)
    assert len({c["seed"] for c in cs}) == len(cs)
    assert {c["init"] for c in cs} == {"uniform", "xavier", "he"}
    assert len(cs) == len(CONFIGS)  # ids are unique


@pytest.mark.parametrize("pair", PAIRS, ids=["manual-torch", "manual-jax", "torch-jax"])
@pytest.mark.parametrize("cid", list(CONFIGS))
def test_gradients_agree(cid, pair):
    for name in pair:
        require(name)
    net, x, y = build(CONFIGS[cid])
    a, b = (result(cid, name) for name in pair)
    assert_grads_close(net, x, y, a, b, names=pair)


def test_backends_return_the_engines_layout_and_dtype(backend):
    net = manual.MLP([3, 4, 2], activation="tanh", bias=False, dtype=np.float32, seed=0)
    net.params  # noqa: B018
    x, y = make_data(net, 5)
    before = [{k: v.copy() for k, v in layer.items()} for layer in net.params]
    loss, grads = backend.loss_and_grads(net, x, y)
    assert isinstance(loss, float)
    assert [sorted(g) for g in grads] == [["W"], ["W"]]
    for g, p in zip(grads, net.params):
        assert isinstance(g["W"], np.ndarray) and g["W"].shape == p["W"].shape and g["W"].dtype == np.float32
    # a backend reads the params and never writes them
    for b, layer in zip(before, net.params):
        np.testing.assert_array_equal(b["W"], layer["W"])


# ------------------------------------------------------------------ the seeds, through the frameworks


def test_frameworks_agree_with_the_engine_not_with_seed001(reference):
    ex = examples.seed001()
    mine = manual.loss_and_grads(ex.net, ex.x, ex.y)
    theirs = reference.loss_and_grads(ex.net, ex.x, ex.y)
    assert_grads_close(ex.net, ex.x, ex.y, mine, theirs, names=("manual", reference.__name__))
    seed_printed = np.array([0.036545, -0.036545])
    assert np.abs(theirs[1][0]["W"].ravel() - seed_printed).max() > 0.02
    assert theirs[1][0]["W"].ravel() == pytest.approx([0.00912393, -0.00912393], abs=5e-9)


def test_frameworks_reproduce_seed002(reference):
    ex = examples.seed002()
    loss, grads = reference.loss_and_grads(ex.net, ex.x, ex.y)
    assert loss == pytest.approx(0.435, abs=5e-4)
    assert grads[1]["W"].ravel() == pytest.approx([-0.185165, -0.202611], abs=5e-7)
    assert grads[0]["W"].T == pytest.approx(np.array([[-0.044, 0.0], [-0.0517, 0.0]]), abs=5e-5)
    assert_grads_close(ex.net, ex.x, ex.y, manual.loss_and_grads(ex.net, ex.x, ex.y), (loss, grads),
                       names=("manual", reference.__name__))


@pytest.mark.parametrize("data", ["as_written", "xor"])
def test_frameworks_agree_on_seed000_at_init(reference, data):
    ex = examples.seed000(data)
    assert_grads_close(ex.net, ex.x, ex.y, manual.loss_and_grads(ex.net, ex.x, ex.y),
                       reference.loss_and_grads(ex.net, ex.x, ex.y), names=("manual", reference.__name__))


def test_jax_float64_is_local_to_the_reference():
    """jax_ref runs float64 inside jax.enable_x64(True); the caller's JAX stays as it was."""
    require("jax_ref")
    import jax
    import jax.numpy as jnp

    before = jax.config.jax_enable_x64
    net = manual.MLP([2, 3, 1], seed=0)
    x, y = make_data(net, 4)
    _, grads = BACKENDS["jax_ref"].loss_and_grads(net, x, y)
    assert grads[0]["W"].dtype == np.float64
    assert jax.config.jax_enable_x64 == before
    if not before:
        assert jnp.ones(1).dtype == jnp.float32
