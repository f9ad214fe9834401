"""Sessions: ``tests`` (the suite), ``demo`` (the main job), ``benchmarks``, ``lint``,
and now and then ``thorough`` (the Hypothesis tests at 3,000 examples each) and
``mutants`` (mutmut over the engine's core).

Every session installs the package with pip under constraints.txt, which
pins torch==2.13.0 (a CPU build on disk on this project's machines).
Virtualenvs are reused, so a second run starts in seconds.
"""

from pathlib import Path

import nox

nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = True

CONSTRAINTS = ("-c", "constraints.txt")


def install(session, extras):
    session.install(*CONSTRAINTS, "-e", f".[{extras}]")


@nox.session
def tests(session):
    """The whole suite (and every benchmark once, untimed), in parallel.
    Args go to pytest: nox -s tests -- -k seed -n 0"""
    install(session, "torch,jax,sklearn,names,test,plot,progress,dask")
    session.run(
        "pytest",
        # one worker per core; a configuration's backend pairs share a worker
        "-n",
        "auto",
        "--dist",
        "loadgroup",
        "tests",
        "benchmarks",
        "--benchmark-disable",
        *session.posargs,
        # a missing framework fails here instead of skipping
        env={"BACKPROP_REQUIRE_FRAMEWORKS": "1"},
    )


BENCHMARK_JSON = ".benchmarks/latest.json"


@nox.session
def benchmarks(session):
    """Time manual against PyTorch and jax.jit, save .benchmarks/latest.json, print
    the ratio table and targets (benchmarks/report.py). Args go to pytest:
    nox -s benchmarks -- -k large. Run it on a quiet machine, without -n."""
    install(session, "torch,jax,sklearn,names,test,dask")
    Path(BENCHMARK_JSON).parent.mkdir(exist_ok=True)
    session.run(
        "pytest",
        "benchmarks",
        f"--benchmark-json={BENCHMARK_JSON}",
        "--benchmark-columns=min,median,mean,stddev,rounds",
        *session.posargs,
        env={"BACKPROP_REQUIRE_FRAMEWORKS": "1"},
    )
    session.run("python", "benchmarks/report.py", BENCHMARK_JSON)


@nox.session
def demo(session):
    """The main job: manual vs PyTorch vs JAX on the seeds' examples, with their
    printed numbers checked; then the four scikit-learn datasets, trained by manual,
    PyTorch, JAX and scikit-learn side by side; then the makemore-style names model,
    trained by the three side by side, then the digits CNN and the names LSTM and
    transformer likewise; then the seeds' own code checked as
    anyone's would be; then how often seed 000's loop learns XOR, over 10,000 starts
    per learning rate, on a 2-worker Dask LocalCluster. Args go to verify: nox -s demo -- --plot curves.png"""
    install(session, "torch,jax,sklearn,names,plot,progress,dask")
    session.run("backprop-by-hand", "verify", *session.posargs)
    session.run("backprop-by-hand", "verify", "--dataset", "all")
    session.run("backprop-by-hand", "verify", "--example", "names")
    session.run("backprop-by-hand", "verify", "--dataset", "digits-cnn")
    session.run("backprop-by-hand", "verify", "--example", "names-lstm")
    session.run("backprop-by-hand", "verify", "--example", "names-transformer")
    session.run("backprop-by-hand", "check", "--example", "seed002")
    # seed 001's code is wrong (its dW1 drops sigma'(z2)): the check exits 1 and names the mistake
    session.run("backprop-by-hand", "check", "--example", "seed001", success_codes=[1])
    session.run("backprop-by-hand", "check", "--example", "seed000")
    # its two data sets are two chunks: one per worker
    session.run("backprop-by-hand", "study", "xor", "--workers", "2")


@nox.session
def thorough(session):
    """The property tests (Hypothesis: drawn nets, drawn layer shapes) at 3,000 examples
    each instead of the default 40: a long hunt (~0.1 s per example, so ~10 minutes on two
    cores), not for every run."""
    install(session, "torch,jax,sklearn,names,test")
    session.run(
        "pytest",
        "-n",
        "auto",
        "tests/test_properties.py",
        "tests/test_layer_parity.py",
        "-k",
        "drawn or matches",
        *session.posargs,
        env={"BACKPROP_REQUIRE_FRAMEWORKS": "1", "HYPOTHESIS_PROFILE": "thorough"},
    )


@nox.session
def lint(session):
    """ruff check and ruff format --check over the whole tree (ruff pinned in constraints.txt)."""
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def mutants(session):
    """mutmut over manual/activations.py, losses.py and backprop.py against the engine,
    parity, extremes, training, seed and ensemble tests ([tool.mutmut] in pyproject.toml); then the
    survivors. Slow: run it now and then, not in CI. docs/agreement.md lists what it left."""
    install(session, "torch,jax,sklearn,test")
    session.install(*CONSTRAINTS, "mutmut")
    # one thread per pool: mutmut forks a child per mutant, and a fork of a threaded process can hang
    threads = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    session.run("mutmut", "run", "--max-children", "2", env={"BACKPROP_REQUIRE_FRAMEWORKS": "1", **threads})
    session.run("mutmut", "results")
