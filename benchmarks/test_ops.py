"""The timings: one pytest-benchmark group per (operation, size, dtype),
the backends side by side in it. ``report.py`` turns the JSON into ratios.

Each benchmark's ``extra_info`` says what it measured (op, size, dtype,
backend, sizes, batch), so the report never parses test names; the step
adds the roofline's FLOPs and, for ``manual``, its peak memory.
"""

import itertools

import pytest

from . import backends, cases
from .memory import peak_bytes
from .roofline import matmul_flops


def grid(backend_names):
    """(size, dtype, backend) for every combination, with readable ids."""
    combos = list(itertools.product(cases.SIZES, cases.DTYPES, backend_names))
    return pytest.mark.parametrize("size,dtype,backend", combos, ids=["-".join(c) for c in combos])


def start(benchmark, op, size, dtype, backend):
    """Set up ``op`` (warmed up) and label the benchmark; returns (case, Prepared)."""
    backends.require(backend)
    if benchmark.disabled and size in ("medium", "large"):
        # the untimed smoke run (nox -s tests): the same code as at the small sizes, on bigger arrays
        pytest.skip("medium and large: timed in nox -s benchmarks only")
    if benchmark.disabled and backend in backends.FRAMEWORKS and dtype == "float32":
        # the same code as float64; each is a JAX compile (or a torch warm-up) of its own
        pytest.skip("the frameworks in float32: timed in nox -s benchmarks only")
    case = cases.CASES[size]
    prepared = backends.prepare(op, backend, case, dtype)
    benchmark.group = f"{op} {size} {dtype}"
    benchmark.extra_info.update(
        op=op, size=size, dtype=dtype, backend=backend, sizes=list(case.sizes), batch=case.batch
    )
    return case, prepared


def timed(benchmark, prepared):
    with prepared.context():
        benchmark(prepared.fn)


@grid(backends.BACKENDS)
def test_forward(benchmark, size, dtype, backend):
    _, prepared = start(benchmark, "forward", size, dtype, backend)
    timed(benchmark, prepared)


@grid(backends.BACKENDS)
def test_loss_and_grads(benchmark, size, dtype, backend):
    _, prepared = start(benchmark, "loss_and_grads", size, dtype, backend)
    timed(benchmark, prepared)


@grid(backends.STEP_BACKENDS)
def test_step(benchmark, size, dtype, backend):
    case, prepared = start(benchmark, "step", size, dtype, backend)
    if backend in ("manual", "numpy-matmuls"):
        # the same number on both rows: report.py divides it by either's time
        benchmark.extra_info["matmul_flops"] = matmul_flops(case.sizes, case.batch)
    if backend == "manual":
        # after prepare's warm-up step: the Trainer's buffers exist, and
        # what the step allocates on top of them is what this measures
        benchmark.extra_info["step_peak_bytes"] = peak_bytes(prepared.fn)
        benchmark.extra_info.update(cases.nbytes(case, dtype))
    timed(benchmark, prepared)


@grid(backends.BACKENDS)
def test_epoch(benchmark, size, dtype, backend):
    """One epoch of EPOCH_BATCHES batches: manual.train, as users call it, against the frameworks' loops."""
    _, prepared = start(benchmark, "epoch", size, dtype, backend)
    timed(benchmark, prepared)


@pytest.mark.parametrize("dtype", cases.DTYPES)
def test_step_floor(benchmark, dtype):
    """The tiny step as straight-line NumPy: the fastest NumPy can do it (floor.py)."""
    _, prepared = start(benchmark, "step", "tiny", dtype, "numpy-floor")
    timed(benchmark, prepared)
