"""Shared fixtures: the three backends, made interchangeable.

Plain ``pytest`` skips a backend whose framework is missing, naming the extra
to install; with BACKPROP_REQUIRE_FRAMEWORKS=1 (what ``nox -s tests`` and CI
set) a missing framework is a failure instead.
"""

import importlib.util
import os

import pytest
from hypothesis import HealthCheck, settings

import manual
from references import jax_ref, torch_ref

REQUIRE_FRAMEWORKS = os.environ.get("BACKPROP_REQUIRE_FRAMEWORKS") == "1"

BACKENDS = {"manual": manual, "torch_ref": torch_ref, "jax_ref": jax_ref}
FRAMEWORKS = {"torch_ref": ("torch", "torch"), "jax_ref": ("jax", "jax")}

settings.register_profile(
    "default",
    deadline=None,  # the first call of a jitted JAX function compiles
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
# HYPOTHESIS_PROFILE=thorough for a long hunt
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def framework_available(backend_name):
    if backend_name == "manual":
        return True
    module, _ = FRAMEWORKS[backend_name]
    return importlib.util.find_spec(module) is not None


def require(backend_name):
    """Skip (or, under BACKPROP_REQUIRE_FRAMEWORKS=1, fail) when a backend's framework is missing."""
    if framework_available(backend_name):
        return
    module, extra = FRAMEWORKS[backend_name]
    message = f"{backend_name} needs {module}: pip install -c constraints.txt 'backprop-by-hand[{extra}]'"
    if REQUIRE_FRAMEWORKS:
        pytest.fail(message + " (BACKPROP_REQUIRE_FRAMEWORKS=1 turns this skip into a failure)")
    pytest.skip(message)


@pytest.fixture(params=list(BACKENDS))
def backend(request):
    """Each backend module in turn; all expose loss_and_grads (and train)."""
    require(request.param)
    return BACKENDS[request.param]


@pytest.fixture(params=["torch_ref", "jax_ref"])
def reference(request):
    """Each framework reference in turn."""
    require(request.param)
    return BACKENDS[request.param]


_calls = {"n": 0}


@pytest.fixture(autouse=True)
def _bound_jax_compile_cache():
    """Drop JAX's compiled executables every 200 tests: thousands of distinct
    shapes (the parity matrix, Hypothesis) otherwise exhaust LLVM's code memory."""
    yield
    _calls["n"] += 1
    if _calls["n"] % 200 == 0 and framework_available("jax_ref"):
        import jax

        jax.clear_caches()


def pytest_collection_modifyitems(config, items):
    """Keep every backend pair of one configuration on one xdist worker
    (``--dist loadgroup``), so each backend's run is computed once and cached."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "pair" in params:
            key = sorted((k, str(v)) for k, v in params.items() if k != "pair")
            item.add_marker(pytest.mark.xdist_group(f"{item.originalname}{key}"))


if os.environ.get("PYTEST_XDIST_WORKER") and framework_available("torch_ref"):
    import torch

    torch.set_num_threads(1)  # see the root conftest.py
