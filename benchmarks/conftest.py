"""Benchmark hooks: the xdist warning kept from failing a run, and the
machine's BLAS, thread counts, versions and how busy it was, recorded next
to the timings.

Busy: on a shared machine other processes steal cores from the BLAS
threads, which then wait for each other; a step can take 50x its time. The
share of CPU time other processes took during the session (Linux only) is
saved as ``other_processes_cpu``, and report.py warns when it is high.

Warnings: pyproject's ``filterwarnings = ["error"]`` applies here too, on
purpose (an overflow inside a timed loop is a broken benchmark). One warning
is let through as a plain warning: pytest-benchmark's "Benchmarks are
automatically disabled because xdist plugin is active". It is raised when
timing is on under xdist (``pytest benchmarks -n 2``; not with
``--benchmark-disable``, which ``nox -s tests -- -n auto`` passes), by the
first worker, from ``pytest_unconfigure``. pytest 9 keeps the configured
filters active until after unconfigure, so ``error`` would turn it into a
traceback at the end of a green run (hidden by xdist today, fatal without
it). A ``filterwarnings`` mark or fixture cannot reach it (no test is
running then); a filter added in ``pytest_configure`` can: it lives in the
``warnings.catch_warnings`` context pytest opens around configure ...
unconfigure, and is dropped with it. ``test_xdist_warning.py`` keeps this true.
"""

import importlib.util
import os
import time
import warnings

import numpy as np
from pytest_benchmark.logger import PytestBenchmarkWarning

XDIST_DISABLED = "Benchmarks are automatically disabled because xdist plugin is active"

_START = {}


def pytest_configure(config):
    # "default": print it once, never raise it (see the module docstring)
    warnings.filterwarnings("default", message=XDIST_DISABLED, category=PytestBenchmarkWarning)


def pytest_sessionstart(session):
    _START.update(cpu=_machine_cpu_seconds(), own=_own_cpu_seconds())


def pytest_benchmark_update_machine_info(config, machine_info):
    """What the ratios depend on besides the code: BLAS, threads, versions."""
    info = {"numpy": np.__version__, "cpu_count": os.cpu_count()}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # the layout of show_config is NumPy's, not a contract
        pass
    if importlib.util.find_spec("torch"):
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    if importlib.util.find_spec("jax"):
        import jax

        info["jax"] = jax.__version__
        info["jax_devices"] = [str(d) for d in jax.devices()]
    info["other_processes_cpu"] = _others_share()
    machine_info["backprop_by_hand"] = info


def _machine_cpu_seconds():
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    hz = os.sysconf("SC_CLK_TCK")
    busy = user + nice + system + irq + softirq + steal
    return busy / hz, (busy + idle + iowait) / hz


def _own_cpu_seconds():
    """Every thread of this process (BLAS, torch and XLA pools too) and of its finished
    children: a study's Dask workers and plain processes are the benchmark, not others."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


def _others_share():
    """The share of the machine's CPU time other processes used since the session started, or None."""
    now = _machine_cpu_seconds()
    if now is None or _START.get("cpu") is None:
        return None
    busy = now[0] - _START["cpu"][0]
    total = now[1] - _START["cpu"][1]
    own = _own_cpu_seconds() - _START["own"]
    return round(max(0.0, (busy - own) / total), 3) if total > 0 else None
