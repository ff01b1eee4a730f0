"""The notebooks in examples/: stored without outputs, and every one runs from top to bottom.

Each notebook is executed with nbclient in a fresh kernel of this Python, with
matplotlib's Agg backend (no display needed) and the test session's symdiff
cache (conftest.py sets SYMDIFF_CACHE_DIR, which the kernel inherits).
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
BUDGET = 120.0  # seconds per notebook, a loose bound against runaway notebooks (aim: under 30)


def test_there_are_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {"numerical_vs_automatic.ipynb", "computation_graph.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, \
                f"{path.name}: cell {k} has outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
              if o.output_type == "error"]
    assert not errors
    assert elapsed < BUDGET, f"{path.name} took {elapsed:.1f} s"
