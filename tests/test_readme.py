"""The README's code runs, and what it says it prints is what it prints."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

from crosscheck import check, seed_code

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
    # the tour's comment on net.trace: its output delta, by hand (a2 - y = 0.6473 - 1)
    assert " ".join("delta2 = (a2 - y)                        (1, 1)    [[-0.3527]]".split()) in " ".join(
        printed.split()
    )
    assert "all ok" in printed  # the gradcheck report
    diagnosis = (
        "one mistake of the catalogue gives exactly these values: σ′(z₂) left out of the output layer's delta"
    )
    assert printed.count(diagnosis) == 1  # the checked function's mistake, named
    check_block = next(b for b in blocks("text") if b.startswith("check: seed 001"))
    code = seed_code.seed001()
    shown = " ".join(check(code.fn, code.net, code.x, code.y, code.layout).text().split())
    for line in check_block.splitlines()[1:]:
        assert " ".join(line.split()) in shown, line
    np.testing.assert_array_equal(
        ns["history"].net.forward(ns["x"]).round(2).ravel(), [0.03, 0.97, 0.97, 0.03]
    )


def test_readme_commands_are_the_ones_ci_runs():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "python3 -m pip install nox && python3 -m nox -s tests" in README
    assert "nox -s tests" in ci


DOCS = sorted((Path(__file__).resolve().parents[1] / "docs").glob("*.md"))


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_the_docs_python_examples_run(doc):
    """Every python block of the docs runs, in order, each doc's blocks in one namespace
    (as a reader runs them), except one that imports the reader's own module."""
    ran, namespace = 0, {}
    for code in re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S):
        if "from my_backprop import" in code:
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, doc.name, "exec"), namespace)  # noqa: S102 - our own docs
        ran += 1
    assert ran or "```python" not in doc.read_text()
