"""pytest-benchmark's xdist warning must not fail a run under filterwarnings=error.

Under xdist with timing on, the first worker (gw0) disables timing and
warns from ``pytest_unconfigure`` (see conftest.py). xdist hides a worker's
exit, so a real ``-n 2`` run cannot show the failure; instead this runs one
benchmark in a subprocess that pytest-benchmark takes for worker gw0 (it
reads PYTEST_XDIST_WORKER), which takes exactly the same code path.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_benchmark_that_imports_nothing_heavy(benchmark):
    """What the subprocess below runs: a benchmark, without torch and jax to import."""
    benchmark(sum, range(10))


def test_xdist_warning_is_printed_not_raised():
    env = {**os.environ, "PYTEST_XDIST_WORKER": "gw0"}
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "-q",
            "benchmarks/test_xdist_warning.py::test_a_benchmark_that_imports_nothing_heavy",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed" in output, output
    # it did fire (so the test exercises the filter), as a warning
    assert "PytestBenchmarkWarning: Benchmarks are automatically disabled" in output, output
