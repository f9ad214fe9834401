"""docs/check.ipynb runs, top to bottom, in a fresh kernel (nbclient), so it never rots: every cell
without an error, its asserts holding, the reports rendered as HTML tables."""

import os
from pathlib import Path

import pytest

from conftest import require

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "check.ipynb"


def test_the_check_notebook_runs(monkeypatch):
    require("torch", "jax")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # the kernel imports this checkout's packages, and Jupyter's own paths raise no deprecation warning
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "docs")}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    tables = [
        o["data"]["text/html"]
        for o in outputs
        if o.output_type == "execute_result" and "text/html" in o["data"]
    ]
    assert len(tables) == 4 and all("<table>" in t for t in tables)
    assert "check_layer" in tables[1] and "Bessel" in tables[1]
    assert "the path through counts_sum is missing from dcounts" in tables[3]
