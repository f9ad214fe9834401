"""The suite's own parts, checked fast: the roofline kernel has the step's
products, the byte and FLOP counts add up, peak_bytes sees NumPy, the floor
is a real SGD step."""

import numpy as np
import pytest

import manual
from crosscheck import backends

from . import cases
from .backends import require as backends_require
from .floor import MakemoreStep, StraightLineStep
from .memory import peak_bytes
from .roofline import MatmulKernel, matmul_flops
from .test_layers import names_batch


@pytest.mark.parametrize("size", ["tiny", "small", "medium"])
def test_kernel_has_the_steps_products(size):
    """Per layer the forward product and dW, and delta @ W.T for every layer but the first."""
    case = cases.CASES[size]
    net = cases.make_net(case, "float64")
    x, y = cases.make_data(case, "float64")
    kernel = MatmulKernel.for_net(net, x, y)
    kernel()
    assert [z.shape for z in kernel.z] == [(case.batch, n) for n in case.sizes[1:]]
    assert [dW.shape for dW in kernel.dW] == [(i, o) for i, o in zip(case.sizes[:-1], case.sizes[1:])]
    assert [da.shape for da in kernel.da[1:]] == [(case.batch, n) for n in case.sizes[1:-1]]


@pytest.mark.parametrize("size", cases.SIZES)
def test_flops_count_the_kernels_products(size):
    case = cases.CASES[size]
    sizes, batch = case.sizes, case.batch
    forward = sum(2 * batch * i * o for i, o in zip(sizes[:-1], sizes[1:]))
    backward_dW = forward
    backward_delta = forward - 2 * batch * sizes[0] * sizes[1]
    assert matmul_flops(sizes, batch) == forward + backward_dW + backward_delta


@pytest.mark.parametrize("dtype", cases.DTYPES)
def test_nbytes_match_the_net(dtype):
    case = cases.CASES["small"]
    net = cases.make_net(case, dtype)
    counted = cases.nbytes(case, dtype)
    assert counted["params_bytes"] == sum(a.nbytes for layer in net.params for a in layer.values())
    itemsize = np.dtype(dtype).itemsize
    assert counted["activations_bytes"] == sum(case.batch * n * itemsize for n in case.sizes[1:])


@pytest.mark.parametrize("size", cases.SIZES)
def test_data_is_cached_and_valid(size):
    case = cases.CASES[size]
    x, y = cases.make_data(case, "float32")
    assert cases.make_data(case, "float32")[0] is x
    assert x.shape == (case.batch, case.sizes[0]) and y.shape == (case.batch, case.sizes[-1])
    assert x.dtype == y.dtype == np.float32
    cases.make_net(case, "float32").loss(x, y)  # the engine's own checks accept them (one-hot rows etc.)


def test_peak_bytes_sees_numpy_buffers():
    assert peak_bytes(lambda: np.ones(2**20, np.uint8)) >= 2**20
    buffer = np.zeros(2**20, np.uint8)
    assert peak_bytes(lambda: buffer.fill(1)) < 2**12


@pytest.mark.parametrize("dtype", cases.DTYPES)
def test_the_floor_does_a_real_sgd_step(dtype):
    """The straight-line step does what torch.optim.SGD does: same loss, same new params, three steps on."""
    backends_require("torch")
    case = cases.CASES["tiny"]
    x, y = cases.make_data(case, dtype)
    net = cases.make_net(case, dtype)
    floor = StraightLineStep(net, x, y, case.lr)
    losses = [floor() for _ in range(3)]
    run = backends.train("torch", net, x, y, manual.SGD(lr=case.lr), epochs=3)
    np.testing.assert_allclose(losses, run.losses, rtol=1e-5)
    np.testing.assert_allclose(
        floor.net.flat_params,
        np.concatenate([p.ravel() for layer in run.params for p in layer.values()]),
        rtol=1e-5,
    )


def test_the_names_floor_does_the_engines_step():
    """The straight-line names step computes what the engine's Trainer step computes: the same
    loss and the same new params, three steps on (the engine's parity holds it to the frameworks)."""
    net, x, y = names_batch()
    floor, trainer = MakemoreStep(net.copy(), x, y, 0.1), manual.Trainer(net.copy(), manual.SGD(lr=0.1))
    for _ in range(3):
        np.testing.assert_allclose(floor(), trainer.step(x, y), rtol=1e-13)
    np.testing.assert_allclose(floor.net.flat_params, trainer.net.flat_params, rtol=1e-12, atol=1e-14)
    for a, b in zip(floor.net.buffers, trainer.net.buffers):
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-13)
