"""The suite's own parts, checked fast: the roofline kernel does the engine's
products, the byte and FLOP counts add up, peak_bytes sees NumPy."""

import numpy as np
import pytest

from . import cases
from .memory import peak_bytes
from .roofline import MatmulKernel, matmul_flops


@pytest.mark.parametrize("size", ["tiny", "small", "medium"])
def test_kernel_computes_the_engines_weight_gradients(size):
    case = cases.CASES[size]
    net = cases.make_net(case, "float64")
    x, y = cases.make_data(case, "float64")
    kernel = MatmulKernel.for_net(net, x, y)
    kernel()
    _, grads = net.loss_and_grads(x, y)
    for dW, layer in zip(kernel.dW, grads):
        np.testing.assert_allclose(dW, layer["W"], rtol=1e-12, atol=1e-15)
    # delta @ W.T, every layer but the first: (batch, n_in), the previous layer's delta before f'
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
def test_the_floor_is_the_engines_step(dtype):
    """The straight-line step does what Trainer.step does: same loss, same new params."""
    import manual

    from .floor import StraightLineStep

    case = cases.CASES["tiny"]
    x, y = cases.make_data(case, dtype)
    floor = StraightLineStep(cases.make_net(case, dtype), x, y, case.lr)
    net = cases.make_net(case, dtype)
    trainer = manual.Trainer(net, manual.SGD(lr=case.lr))
    for _ in range(3):
        assert floor() == pytest.approx(trainer.step(x, y), rel=1e-6)
    np.testing.assert_allclose(floor.net._flat, net._flat, rtol=1e-6)
