"""The benchmarked nets and their data: one ``Case`` per size.

Choices, per size (why: each is the usual net of its scale):

    tiny    2-2-1,          batch 4    sigmoid everywhere, mse, sum    the seeds' net (XOR-sized)
    small   64-64-10,       batch 32   relu hidden, softmax output,    a small classifier
                                       cross_entropy, mean
    medium  784-256-10,     batch 128  as small                        an MNIST-shaped classifier
    large   1024-1024-1024, batch 512  relu hidden, identity output,   matmul-bound: the roofline case
                                       mse, mean

Weights: the seeds' U[0, 1) for tiny, He normal elsewhere, seed 0, so every
backend starts from the same ``net.params``. Data: random, drawn once per
(size, dtype) from a fixed seed; never downloaded.
"""

import functools
from dataclasses import dataclass

import numpy as np

import manual

DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Case:
    name: str
    sizes: tuple
    batch: int
    activation: str
    output_activation: str
    loss: str
    reduction: str
    init: str
    # small enough that thousands of timed steps on one batch stay finite
    lr: float

    @property
    def n_layers(self):
        return len(self.sizes) - 1


CASES = {
    c.name: c
    for c in (
        Case("tiny", (2, 2, 1), 4, "sigmoid", "sigmoid", "mse", "sum", "uniform", 0.1),
        Case("small", (64, 64, 10), 32, "relu", "softmax", "cross_entropy", "mean", "he", 0.01),
        Case("medium", (784, 256, 10), 128, "relu", "softmax", "cross_entropy", "mean", "he", 0.01),
        Case("large", (1024, 1024, 1024), 512, "relu", "identity", "mse", "mean", "he", 0.01),
    )
}
SIZES = tuple(CASES)


def make_net(case, dtype, engine=manual):
    """A fresh ``manual.MLP`` for ``case`` (``engine``: another copy of the engine's package,
    benchmarks/versions.py's): same params on every call."""
    return engine.MLP(
        case.sizes,
        activation=case.activation,
        output_activation=case.output_activation,
        loss=case.loss,
        reduction=case.reduction,
        init=case.init,
        seed=0,
        dtype=dtype,
    )


@functools.cache
def make_data(case, dtype, batches=1):
    """``(x, y)``: x ``(batches * batch, n_in)`` standard normal; y ``(batches * batch, n_out)``,
    one-hot rows for cross_entropy, else in [0.2, 0.8] for the sigmoid output
    (reachable without saturating) or standard normal for the identity one.

    Cached: every backend and operation of a (size, dtype) sees these arrays;
    nothing may write to them (they are not made read-only because
    ``torch.from_numpy`` warns on read-only arrays).
    """
    rng = np.random.default_rng([SIZES.index(case.name), 2024, batches])
    batch, n_in, n_out = case.batch * batches, case.sizes[0], case.sizes[-1]
    x = rng.standard_normal((batch, n_in))
    if case.loss == "cross_entropy":
        y = np.eye(n_out)[rng.integers(0, n_out, size=batch)]
    elif case.output_activation == "sigmoid":
        y = rng.uniform(0.2, 0.8, size=(batch, n_out))
    else:
        y = rng.standard_normal((batch, n_out))
    return x.astype(dtype), y.astype(dtype)


def nbytes(case, dtype):
    """What one training step must hold, in bytes: ``params`` (= the
    gradients'), and ``activations``, batch x width x itemsize summed over
    the layers' outputs (the input x is the caller's)."""
    itemsize = np.dtype(dtype).itemsize
    params = sum((n_in + 1) * n_out for n_in, n_out in zip(case.sizes[:-1], case.sizes[1:])) * itemsize
    activations = case.batch * sum(case.sizes[1:]) * itemsize
    return {"params_bytes": params, "grads_bytes": params, "activations_bytes": activations}
