"""N nets in one step: ``manual.Ensemble`` against ``jax.vmap`` and ``torch.func.vmap``,
and against N single-net steps. One pytest-benchmark group per (case, dtype),
``ensemble <case> <dtype>``; ``report.py`` divides each time by the nets it
stepped and prints ns per net-step.

    case           net                                             batch  N
    xor-n1000      2-2-1, sigmoid everywhere, mse, sum (the seeds' XOR)  4  1,000
    xor-n100000    as xor-n1000                                        4  100,000
    small-n256     64-64-10, tanh hidden, softmax + cross_entropy,    32  256
                   mean (the data of cases.py's small case)

    backend        one timed call
    manual         manual.Trainer(ens, manual.SGD(lr=np.full(N, lr))).step(x, y): what a user calls,
                   inputs checked, non-finite nets frozen
    jax            jax_ref.ensemble_sgd_step: jit(vmap(value_and_grad)) and p - lr g, params fed back
    torch          torch_ref.make_ensemble_step: torch.func.vmap(grad_and_value), p.sub_(lr g) in place
    manual-single  manual.Trainer(manual.MLP(sizes, ...), manual.SGD(lr)).step(x, y): ONE net's step;
                   N single-net steps cost N times this, so its time is its per-net cost

x is shared by every net, ``(batch, n_in)``, as is y. Every call has run once
before it is timed (JIT compiles, first-touch page faults) unless timing is
off (``--benchmark-disable``): then each benchmark runs its step once, and the
100,000-net cases and the frameworks' steps other than xor-n1000 float64 are
skipped. At 100,000 nets the manual step also records its memory traffic and
what it would take at this machine's copy bandwidth (``step_traffic``);
``test_ensemble_ufuncs`` records what each NumPy call of the step costs per
element here (bandwidth.py).
"""

import contextlib
import dataclasses
import functools
import os

import numpy as np
import pytest

import manual
from references import jax_ref, torch_ref

from . import backends, cases
from .bandwidth import copy_bandwidth, ufunc_costs
from .memory import peak_bytes

BACKENDS = ("manual", "jax", "torch", "manual-single")
XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_Y = [[0], [1], [1], [0]]


@dataclasses.dataclass(frozen=True)
class EnsembleCase(cases.Case):
    n_nets: int

    @property
    def large(self):
        """Timed only: skipped by the untimed smoke run (``--benchmark-disable``)."""
        return self.n_nets >= 100_000


_XOR = dict(
    sizes=(2, 2, 1),
    batch=4,
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    init="uniform",
    lr=0.5,
)
CASES = {
    c.name: c
    for c in (
        EnsembleCase("xor-n1000", n_nets=1000, **_XOR),
        EnsembleCase("xor-n100000", n_nets=100_000, **_XOR),
        EnsembleCase(
            "small-n256", (64, 64, 10), 32, "tanh", "softmax", "cross_entropy", "mean", "xavier", 0.1, 256
        ),
    )
}
BANDWIDTH_CASES = ("xor-n100000",)


def make_data(case, dtype):
    """``(x, y)``: XOR's four samples, or cases.py's small batch (32 standard normal rows, one-hot y)."""
    if case.name.startswith("xor"):
        return np.array(XOR_X, dtype), np.array(XOR_Y, dtype)
    return cases.make_data(cases.CASES["small"], dtype)


def _net_args(case, dtype):
    return dict(
        activation=case.activation,
        output_activation=case.output_activation,
        loss=case.loss,
        reduction=case.reduction,
        init=case.init,
        dtype=dtype,
    )


@functools.cache
def _pristine(case, dtype):
    """The case's ensemble as built (nets seeded 0..N-1); never stepped: callers take a copy.
    Building 100,000 nets takes ~2 s, a copy ~1 ms."""
    return manual.Ensemble(case.sizes, case.n_nets, **_net_args(case, dtype))


def make_ensemble(case, dtype):
    return _pristine(case, dtype).copy()


def make_single(case, dtype):
    """Net 0 of the ensemble, as one MLP (seed 0)."""
    return manual.MLP(case.sizes, seed=0, **_net_args(case, dtype))


@dataclasses.dataclass
class Prepared:
    fn: object
    context: object = contextlib.nullcontext


def prepare(backend, case, dtype):
    """One training step of ``backend`` on ``case``, as a call of no arguments (not yet run)."""
    x, y = make_data(case, dtype)
    lr = np.full(case.n_nets, case.lr)
    if backend == "manual-single":
        trainer = manual.Trainer(make_single(case, dtype), manual.SGD(lr=case.lr))
        return Prepared(lambda: trainer.step(x, y))
    ens = make_ensemble(case, dtype)
    if backend == "manual":
        trainer = manual.Trainer(ens, manual.SGD(lr=lr))
        return Prepared(lambda: trainer.step(x, y))
    if backend == "torch":
        import torch

        torch.set_num_threads(os.cpu_count())  # as backends.py: every core, as NumPy's BLAS and XLA
        step, _named = torch_ref.make_ensemble_step(ens.spec(), ens.params, x, y, lr)
        return Prepared(step)
    import jax
    import jax.numpy as jnp

    context = functools.partial(jax_ref.x64, dtype)
    with context():
        state = [jax_ref.to_jax(ens.params)]
        rates, X, Y = jnp.asarray(lr.astype(dtype)), jnp.asarray(x), jnp.asarray(y)
    step = jax_ref.ensemble_sgd_step(tuple(ens.activations), ens.loss_name, ens.reduction, 0.0, None, None)

    def jax_step():
        state[0], losses = step(state[0], rates, X, Y)  # new params fed to the next call
        return jax.block_until_ready((state[0], losses))

    return Prepared(jax_step, context)


# ------------------------------------------------------------------ byte counts


def params_per_net(sizes):
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def budget_bytes(case, dtype):
    """The allocation budget's base, as cases.nbytes counts it for one net, times N:
    the activations (batch x units over the layers' outputs) and the gradients (= the params)."""
    itemsize = np.dtype(dtype).itemsize
    activations = case.batch * sum(case.sizes[1:]) * itemsize * case.n_nets
    grads = params_per_net(case.sizes) * itemsize * case.n_nets
    return {"activations_bytes": activations, "grads_bytes": grads}


def step_traffic(case, dtype):
    """The bytes one ensemble SGD step must read and write, by its buffers:

        footprint = itemsize x N x (3 P + 4 B U)
            P = sum over layers of (n_in + 1) n_out    a net's params; the params, the gradients
                                                       and SGD's scratch (lr * g) are P each
            U = sum of sizes[1:]                       units; z, a, delta and work are each
            B = the batch                              (B, units, N) per layer (ensemble.Workspace)
        traffic = 2 x footprint                        every buffer written once and read once

    x, y (shared, a few bytes) and the (N,) losses are left out. XOR 2-2-1, batch 4:
    P = 9, U = 3, 75 elements per net: at N = 100,000, 60 MB (float64) footprint,
    120 MB traffic. It is a floor for this layout, not for a step (a fused one
    would keep z, a, delta in registers): how far the step is from streaming.
    """
    itemsize = np.dtype(dtype).itemsize
    P, U = params_per_net(case.sizes), sum(case.sizes[1:])
    footprint = itemsize * case.n_nets * (3 * P + 4 * case.batch * U)
    return {"footprint_bytes": footprint, "traffic_bytes": 2 * footprint}


# ------------------------------------------------------------------ benchmarks


def _grid():
    combos = [(c, d, b) for c in CASES for d in cases.DTYPES for b in BACKENDS]
    return pytest.mark.parametrize("case_name,dtype,backend", combos, ids=["-".join(c) for c in combos])


@_grid()
def test_ensemble_step(benchmark, case_name, dtype, backend):
    case = CASES[case_name]
    if benchmark.disabled and case.large:
        pytest.skip("100,000 nets: timed in nox -s benchmarks only")
    if benchmark.disabled and backend in backends.FRAMEWORKS and (dtype == "float32" or case.n_nets < 1000):
        # a jit compile each (0.5-0.9 s) for the calls xor-n1000 float64 makes: the smoke run takes that one
        pytest.skip("the frameworks' step beyond xor-n1000 float64: timed in nox -s benchmarks only")
    backends.require(backend)
    prepared = prepare(backend, case, dtype)
    benchmark.group = f"ensemble {case.name} {dtype}"
    benchmark.extra_info.update(
        op="ensemble",
        size=case.name,
        dtype=dtype,
        backend=backend,
        sizes=list(case.sizes),
        batch=case.batch,
        n_nets=case.n_nets,
        nets_per_call=1 if backend == "manual-single" else case.n_nets,
    )
    with prepared.context():
        if not benchmark.disabled:
            prepared.fn()  # the warm-up; untimed runs call the step once, below
        if backend == "manual" and case.name in BANDWIDTH_CASES:
            traffic = step_traffic(case, dtype)
            bandwidth = copy_bandwidth(traffic["footprint_bytes"])
            benchmark.extra_info.update(
                traffic,
                copy_bytes_per_second=bandwidth,
                bandwidth_limited_seconds=traffic["traffic_bytes"] / bandwidth,
            )
        benchmark(prepared.fn)


@pytest.mark.parametrize("dtype", cases.DTYPES)
def test_ensemble_ufuncs(benchmark, dtype):
    """ns per element of each NumPy call the XOR ensemble step makes, at 100,000 nets
    (1,000 and one call each when timing is off: the code path only)."""
    case = CASES["xor-n100000"]
    n_nets, repeats = (1000, 1) if benchmark.disabled else (case.n_nets, 20)
    benchmark.group = f"ensemble ufuncs {dtype}"
    benchmark.extra_info.update(op="ensemble-ufuncs", size=case.name, dtype=dtype, backend="numpy")
    width = case.sizes[1]
    costs = benchmark.pedantic(
        ufunc_costs, args=(case.batch, width, n_nets, dtype, repeats), rounds=1, iterations=1
    )
    benchmark.extra_info.update(elements=case.batch * width * n_nets, ns_per_element=costs)
    assert set(costs) and all(v > 0 for v in costs.values())


# ------------------------------------------------------------------ allocation and counts (not timed)


ALLOCATION_NETS = 20_000  # XOR: 3.4 MB of activations and gradients, far above allocator noise


@pytest.mark.parametrize("case_name", ["xor-n100000", "small-n256"])
def test_an_ensemble_step_allocates_at_most_half_again_its_activations_and_grads(case_name):
    """One Trainer.step, after a warm-up step, allocates <= 1.5 x (activations + grads) of the ensemble.

    XOR at ALLOCATION_NETS nets, copies of one (Ensemble.from_nets is 2.5x faster
    than seeding each): what a step allocates does not depend on their values."""
    case = CASES[case_name]
    x, y = make_data(case, "float64")
    if case.large:
        case = dataclasses.replace(case, n_nets=ALLOCATION_NETS)
        ens = manual.Ensemble.from_nets([make_single(case, "float64")] * case.n_nets)
    else:
        ens = make_ensemble(case, "float64")
    trainer = manual.Trainer(ens, manual.SGD(lr=np.full(case.n_nets, case.lr)))
    trainer.step(x, y)  # the first step made every buffer there is
    peak = peak_bytes(lambda: trainer.step(x, y))
    budget = sum(budget_bytes(case, "float64").values())
    assert peak <= 1.5 * budget, f"one step allocated {peak} bytes, the budget is 1.5 x {budget}"


@pytest.mark.parametrize("case_name", list(CASES))
def test_the_byte_counts_are_the_buffers(case_name):
    """step_traffic's and budget_bytes's counts: the ensemble's, the Trainer's and the workspace's arrays."""
    case = dataclasses.replace(CASES[case_name], n_nets=3)
    ens = make_ensemble(case, "float32")
    trainer = manual.Trainer(ens, manual.SGD(lr=np.full(3, case.lr)))
    trainer.step(*make_data(case, "float32"))
    (ws,) = ens._ws.values()
    workspace = sum(arr.nbytes for arrays in (ws.z, ws.a[1:], ws.delta, ws.work) for arr in arrays)
    buffers = ens.flat_params.nbytes + trainer._grads_flat.nbytes + trainer.state.flat_scratch.nbytes
    assert step_traffic(case, "float32")["footprint_bytes"] == buffers + workspace
    counted = budget_bytes(case, "float32")
    assert counted["grads_bytes"] == trainer._grads_flat.nbytes
    assert counted["activations_bytes"] == sum(arr.nbytes for arr in ws.a[1:])
