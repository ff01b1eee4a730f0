"""The notebooks in examples/: stored without outputs, every one runs from top to bottom, and
what each one prints and draws is checked.

Each notebook is executed once, with nbclient in a fresh kernel of this Python, with
matplotlib's inline backend (figures become image/png outputs, no display needed) and the
test session's symdiff cache (conftest.py sets SYMDIFF_CACHE_DIR, which the kernel inherits).
`CHECKS` then looks at the outputs of each notebook.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("matplotlib_inline")
pytest.importorskip("sklearn")  # optimizers.ipynb loads scikit-learn's breast cancer data

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
BUDGET = 120.0  # seconds per notebook, a loose bound against runaway notebooks (aim: under 30)
INLINE = "module://matplotlib_inline.backend_inline"


def _outputs(nb) -> list:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def _text(nb) -> str:
    """Everything the notebook printed (streams and the text of results)."""
    parts = []
    for o in _outputs(nb):
        if o.output_type == "stream":
            parts.append(o.text)
        elif "text/plain" in o.get("data", {}):
            parts.append(o.data["text/plain"])
    return "\n".join(parts)


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


def check_numerical_vs_automatic(nb) -> None:
    text = _text(nb)
    assert "symdiff: mean error" in text
    assert "is not complex-analytic" in text  # the complex step refused on abs()
    assert _images(nb) >= 2  # the error V and the cost against n


def check_computation_graph(nb) -> None:
    text = _text(nb)
    assert "worst coordinate" in text and ": ok" in text  # check_grad against the complex step
    assert _images(nb) >= 2  # the graph and the descent curve


def check_forward_vs_reverse(nb) -> None:
    text = _text(nb)
    assert "sd.jacobian used forward mode" in text and "sd.jacobian used reverse mode" in text
    assert "forward and reverse Jacobians agree: True" in text
    assert "func f_jvp0(" in text and "x_dot" in text  # the tangent code of show_ir
    crossing = float(re.search(r"faster below n/m = ([0-9.]+)", text).group(1))
    assert 0.25 < crossing < 4.0, f"forward and reverse mode cross at n/m = {crossing}"
    assert _images(nb) >= 1


def check_higher_order(nb) -> None:
    text = _text(nb)
    assert "all orders agree with SymPy: True" in text
    table = re.findall(r"^\s*([1-6])\s+(\d+)\s+(\d+)\s+(\d+)\s*$", text, flags=re.M)
    assert [int(row[0]) for row in table] == [1, 2, 3, 4, 5, 6], "the op count table"
    assert "def tanh_egrad0_egrad0(" in text  # the generated code of the 2nd order
    assert _images(nb) >= 1


def check_optimizers(nb) -> None:
    text = _text(nb)
    assert "compiled" in text and "python loop" not in text  # every run used the compiled loop
    assert _images(nb) >= 2


CHECKS: dict[str, Callable[..., None]] = {
    "numerical_vs_automatic": check_numerical_vs_automatic,
    "computation_graph": check_computation_graph,
    "forward_vs_reverse": check_forward_vs_reverse,
    "higher_order": check_higher_order,
    "optimizers": check_optimizers,
}


def test_there_are_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"numerical_vs_automatic", "computation_graph", "forward_vs_reverse", "higher_order",
            "optimizers"} <= names
    assert names <= set(CHECKS), f"add a check of the outputs of {sorted(names - set(CHECKS))}"


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
    monkeypatch.setenv("MPLBACKEND", INLINE)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    errors = [o for o in _outputs(nb) if o.output_type == "error"]
    assert not errors, "\n".join(f"{e.ename}: {e.evalue}" for e in errors)
    assert elapsed < BUDGET, f"{path.name} took {elapsed:.1f} s"
    CHECKS.get(path.stem, lambda nb: None)(nb)  # test_there_are_notebooks requires one
