"""Shared fixtures: the three backends by name, interchangeable through
``crosscheck.backends``.

Plain ``pytest`` skips a framework that is missing, naming the extra to
install; with BACKPROP_REQUIRE_FRAMEWORKS=1 (what ``nox -s tests`` and CI
set) a missing framework is a failure instead.
"""

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from crosscheck import backends

REQUIRE_FRAMEWORKS = os.environ.get("BACKPROP_REQUIRE_FRAMEWORKS") == "1"
TESTS = Path(__file__).resolve().parent
PAIRS = [("manual", "torch"), ("manual", "jax"), ("torch", "jax")]
PAIR_IDS = ["manual-torch", "manual-jax", "torch-jax"]

settings.register_profile(
    "default",
    deadline=None,  # the first call of a jitted JAX function compiles
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
# HYPOTHESIS_PROFILE=thorough for a long hunt
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def compiled_examples(n):
    """How many examples a drawn test gets whose every example compiles JAX anew (its own
    shapes, 0.15-0.8 s each): ``n`` in the default run, the profile's own count in any other
    (``nox -s thorough``: 3,000). The fixed cases beside each such test hold the planted
    mistakes' catches (tests/test_mutants.py); the drawn shapes hunt for edges."""
    return n if os.environ.get("HYPOTHESIS_PROFILE", "default") == "default" else settings().max_examples


def require(*names):
    """Skip (or, under BACKPROP_REQUIRE_FRAMEWORKS=1, fail) when a framework backend is missing."""
    for name in names:
        if name == "manual" or backends.version(name) is not None:
            continue
        extra = backends.EXTRAS[name]
        message = f"{name} is not installed: pip install -c constraints.txt 'backprop-by-hand[{extra}]'"
        if REQUIRE_FRAMEWORKS:
            pytest.fail(message + " (BACKPROP_REQUIRE_FRAMEWORKS=1 turns this skip into a failure)")
        pytest.skip(message)


@pytest.fixture(params=list(backends.NAMES))
def backend(request):
    """Each backend's name in turn: "manual", "torch", "jax"."""
    require(request.param)
    return request.param


@pytest.fixture(params=list(backends.REFERENCES))
def reference(request):
    """Each framework reference's name in turn."""
    require(request.param)
    return request.param


_calls = {"n": 0}


@pytest.fixture(autouse=True)
def _bound_jax_compile_cache():
    """Drop JAX's compiled executables every 200 tests: thousands of distinct
    shapes (the parity matrix, Hypothesis) otherwise exhaust LLVM's code memory."""
    yield
    _calls["n"] += 1
    if _calls["n"] % 200 == 0 and backends.installed()["jax"]:
        import jax

        jax.clear_caches()


def pytest_sessionstart(session):
    """Forget every result a test module cached (functools.cache) before this session:
    mutmut forks each mutant's run from a process that has run the suite once, and
    results cached then are the unmutated engine's, which a mutant would never touch."""
    for module in list(sys.modules.values()):
        if Path(getattr(module, "__file__", None) or "").parent == TESTS:
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def pytest_collection_modifyitems(config, items):
    """Keep every backend pair (or reference) of one configuration on one xdist worker
    (``--dist loadgroup``), so each backend's result is computed once and cached;
    a test that names its own ``xdist_group`` keeps it."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        side = "pair" if "pair" in params else "reference" if "reference" in params else None
        if side and not item.get_closest_marker("xdist_group"):
            key = sorted((k, str(v)) for k, v in params.items() if k != side)
            item.add_marker(pytest.mark.xdist_group(f"{item.originalname}{key}"))


if os.environ.get("PYTEST_XDIST_WORKER") and backends.installed()["torch"]:
    import torch

    torch.set_num_threads(1)  # see the root conftest.py
