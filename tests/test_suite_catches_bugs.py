"""The parity suite must fail, and say where, when the engine is wrong:
run it against an engine whose hidden layers forget sigma'(z)."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import require
from test_parity import CONFIGS

ROOT = Path(__file__).resolve().parents[1]


def test_a_missing_sigmoid_derivative_fails_the_parity_suite_at_the_broken_layer():
    require("torch_ref")
    # a 2-layer sigmoid net with bce: the output delta a - y needs no sigma',
    # so only layer 1 (the hidden one) is wrong
    cid = next(cid for cid, c in CONFIGS.items()
               if c["activation"] == "sigmoid" and c["loss"] == "bce" and len(c["sizes"]) == 3
               and c["dtype"].__name__ == "float64")
    node = f"tests/test_parity.py::test_gradients_agree[{cid}-manual-torch]"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "plugins")}
    args = [sys.executable, "-m", "pytest", "-p", "broken_sigmoid", "-p", "no:cacheprovider", "-p", "no:xdist", node]
    healthy = subprocess.run(args[:3] + args[5:], cwd=ROOT, env=env, capture_output=True, text=True)
    assert healthy.returncode == 0, healthy.stdout[-3000:]

    broken = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    out = broken.stdout
    assert broken.returncode == 1, out[-3000:]
    assert "manual and torch_ref disagree (float64)" in out
    assert "layer 1 W (W1): max abs err" in out and "max rel err" in out
    assert "layer 2" not in out.split("disagree")[1].split("\n\n")[0]
