"""The README's code runs, and what it says it prints is what it prints."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def run_readme_python():
    namespace = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for code in blocks("python"):
            exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace, out.getvalue()


def test_readme_python_blocks_run_and_print_what_they_claim():
    ns, printed = run_readme_python()
    trace_block = next(b for b in blocks("text") if b.startswith("2-2-1 MLP"))
    assert trace_block.rstrip("\n") in printed
    assert "all ok" in printed  # the gradcheck report
    np.testing.assert_array_equal(
        ns["history"].net.forward(ns["x"]).round(2).ravel(), [0.03, 0.97, 0.97, 0.03]
    )


def test_readme_commands_are_the_ones_ci_runs():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "python3 -m pip install nox && python3 -m nox -s tests" in README
    assert "nox -s tests" in ci
