"""One epoch of each dataset's recipe (crosscheck.datasets), the way each
library's user runs an epoch. One pytest-benchmark group per dataset,
``dataset <name>``; report.py prints ms per epoch and the ratios.

    backend   one timed call: an epoch over the training part, batches of the recipe's size
    manual    manual.train(net, x, y, SGD(lr, momentum), epochs=1, batch_size, shuffle_seed)
    torch     torch_ref.make_step's eager step (zero_grad, forward, backward, opt.step) per batch
    jax       jax_ref.make_step's jitted optax step per batch (compiled before timing)
    sklearn   MLPClassifier / MLPRegressor.partial_fit(x, y): scikit-learn's own epoch,
              shuffled, on the same net, optimizer and batch size

The batches are the same index arrays for manual, torch and jax (one epoch
of crosscheck.backends.batch_indices); scikit-learn shuffles with its own
generator. Under --benchmark-disable (nox -s tests) only digits runs, once.
"""

import pytest

import manual
from crosscheck import backends as harness
from crosscheck import datasets
from references import jax_ref, sklearn_ref, torch_ref

from . import backends

BACKENDS = ("manual", "torch", "jax", "sklearn")


def epoch(problem, backend):
    """A function running one epoch of ``problem`` with ``backend``, warmed up."""
    r, net = problem.recipe, problem.net
    x, y = problem.x_train, problem.y_train
    opt = manual.SGD(lr=r.lr, momentum=r.momentum)
    batches = harness.batch_indices(len(x), 1, r.batch_size, shuffle_seed=0)
    if backend == "manual":
        return lambda: manual.train(net, x, y, opt, 1, batch_size=r.batch_size, shuffle_seed=0)
    if backend == "torch":
        import torch

        step, _, _ = torch_ref.make_step(net.spec(), net.params, opt.config())
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        index = [torch.from_numpy(idx) for idx in batches]
        return lambda: [step(xt[idx], yt[idx]) for idx in index]
    if backend == "jax":
        import jax

        step, params, opt_state = jax_ref.make_step(net.spec(), net.params, opt.config())
        state = [params, opt_state]

        def jax_epoch():
            # batches gathered by NumPy inside the timed call, as for manual and torch (and jax_ref.train)
            with jax_ref.x64(net.dtype):
                for idx in batches:
                    state[0], state[1], loss = step(state[0], state[1], x[idx], y[idx])
                return jax.block_until_ready(loss)

        return jax_epoch
    est = sklearn_ref.estimator_at(net.spec(), net.params, opt.config())
    est.set_params(batch_size=r.batch_size, shuffle=True, random_state=0)
    targets = sklearn_ref.labels(net.spec(), y)
    return lambda: est.partial_fit(x, targets)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", datasets.NAMES)
def test_epoch(benchmark, name, backend):
    backends.require(backend)
    if benchmark.disabled and name != "digits":
        pytest.skip("timed in nox -s benchmarks; the smoke run does digits only")
    problem = datasets.load(name)
    fn = epoch(problem, backend)
    fn()
    benchmark.group = f"dataset {name}"
    benchmark.extra_info.update(op="dataset-epoch", size=name, dtype="float64", backend=backend)
    benchmark(fn)
