"""Without torch or jax: the references import, a call names the extra to
install, ``verify`` says what it compared (finite differences only) and what it
could not, plain pytest skips with that reason, and BACKPROP_REQUIRE_FRAMEWORKS=1
(nox, CI) turns the skip into a failure."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = str(ROOT / "tests" / "plugins")


def env(require=False):
    e = {k: v for k, v in os.environ.items() if k != "BACKPROP_REQUIRE_FRAMEWORKS"}
    e["PYTHONPATH"] = PLUGINS
    if require:
        e["BACKPROP_REQUIRE_FRAMEWORKS"] = "1"
    return e


def python(code):
    return subprocess.run(
        [sys.executable, "-c", "import no_frameworks\n" + code],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
    )


def test_a_reference_without_its_framework_names_the_extra_when_called():
    code = """
import numpy as np, manual
from references import jax_ref, torch_ref
net = manual.MLP([2, 1], seed=0)
for ref in (torch_ref, jax_ref):
    try:
        ref.loss_and_grads(net.spec(), net.params, np.ones((1, 2)), np.ones((1, 1)))
    except ImportError as err:
        print(err)
"""
    out = python(code)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "PyTorch is not installed" in lines[0] and "'backprop-by-hand[torch]'" in lines[0]
    assert "JAX is not installed" in lines[1] and "'backprop-by-hand[jax]'" in lines[1]


def test_a_partly_installed_framework_counts_as_missing():
    """jax without optax: the JAX reference cannot load, so it is not installed (verify goes
    on with the others) rather than found, then failing with a traceback."""
    code = """
import importlib.abc, sys

class NoOptax(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "optax":
            raise ModuleNotFoundError(name)

sys.meta_path.insert(0, NoOptax())
from crosscheck import backends
print(backends.installed())
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "'jax': None" in out.stdout and "'torch': None" not in out.stdout


def test_verify_dataset_without_scikit_learn_is_one_line_naming_the_extra():
    out = python("from crosscheck.cli import main; raise SystemExit(main(['verify', '--dataset', 'iris']))")
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (
        "backprop-by-hand: error: --dataset needs scikit-learn (its datasets): "
        "pip install -c constraints.txt 'backprop-by-hand[sklearn]'"
    )


def test_study_on_dask_without_dask_is_one_line_naming_the_extra_and_in_process_still_runs():
    args = "['study', '--data', 'xor', '--nets', '3', '--epochs', '20', '--lr', '1'"
    out = python(f"from crosscheck.cli import main; raise SystemExit(main({args}, '--workers', '2']))")
    assert out.returncode == 2 and out.stdout == "", out.stderr
    assert out.stderr.strip() == (
        "backprop-by-hand: error: --workers and --scheduler need Dask: pip install 'backprop-by-hand[dask]'"
    )
    out = python(f"from crosscheck.cli import main; raise SystemExit(main({args}]))")
    assert out.returncode == 0 and "3 starts per learning rate, 20 epochs" in out.stdout, out.stderr


def test_verify_says_it_compared_finite_differences_only():
    out = python(
        "from crosscheck.cli import main; raise SystemExit(main(['verify', '--example', 'seed002', "
        "'--epochs', '3']))"
    )
    assert out.returncode == 0, out.stderr
    assert "all agree" not in out.stdout
    assert (
        "the engine agrees with finite differences; nothing else was compared (no framework is installed, "
        "so no framework gradient and no training run)"
    ) in out.stdout
    assert "(torch is not installed: pip install 'backprop-by-hand[torch]' to compare with it)" in out.stdout
    assert "(jax is not installed: pip install 'backprop-by-hand[jax]' to compare with it)" in out.stdout


NODE = "tests/test_parity.py::test_backends_return_the_plain_layout_and_dtype"


def pytest_without_frameworks(require):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no_frameworks",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-rs",
            NODE,
        ],
        cwd=ROOT,
        env=env(require),
        capture_output=True,
        text=True,
    )


def test_plain_pytest_skips_a_missing_framework_with_the_extra_to_install():
    out = pytest_without_frameworks(require=False)
    assert out.returncode == 0, out.stdout[-2000:]
    assert "1 passed, 2 skipped" in out.stdout
    assert "torch is not installed: pip install -c constraints.txt 'backprop-by-hand[torch]'" in out.stdout
    assert "jax is not installed: pip install -c constraints.txt 'backprop-by-hand[jax]'" in out.stdout


def test_a_required_framework_that_is_missing_fails():
    out = pytest_without_frameworks(require=True)
    assert out.returncode == 1, out.stdout[-2000:]
    assert "1 passed, 2 errors" in out.stdout  # the backend fixture fails: an error, never a skip
    assert "BACKPROP_REQUIRE_FRAMEWORKS=1 turns this skip into a failure" in out.stdout
