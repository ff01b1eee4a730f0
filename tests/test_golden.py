"""Golden files for the printed IR, the adjoint IR and the generated code.

Run with ``SYMDIFF_UPDATE_GOLDEN=1`` to rewrite the files after an intended
change, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import symdiff as sd
from symdiff.frontend.lower import lower
from symdiff.ir.verify import verify
from symdiff.signature import parse_signature
from tests import golden_cases as gc

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SYMDIFF_UPDATE_GOLDEN") == "1"

CASES = [
    (gc.logistic_loss, "w=f64[:], X=f64[:,:], y=f64[:]", 0),
    (gc.rosenbrock, "x=f64[:]", 0),
    (gc.softmax_regression, "W=f64[:,:], b=f64[:], X=f64[:,:], y=i64[:]", (0, 1)),
    (gc.branchy, "x=f64, t=f64", (0, 1)),
    (gc.branch_and_write, "x=f64[:], t=f64", (0, 1)),
    (gc.oscillator, "k=f64, c=f64, x0=f64, v0=f64, dt=f64, target=f64[:]", (0, 1)),
    (gc.newton_sqrt, "a=f64", 0),
    (gc.recurrence, "x=f64[:]", 0),
]
STAGES = {"ir": "ir", "grad": "grad", "python": "numba.py", "numpy": "numpy.py"}


@pytest.mark.parametrize("stage", list(STAGES))
@pytest.mark.parametrize("fn, sig, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_golden(fn, sig, wrt, stage):
    text = sd.show_ir(fn, stage, wrt=wrt, signature=sig)
    path = GOLDEN / f"{fn.__name__}.{STAGES[stage]}.txt"
    if UPDATE or not path.exists():
        path.write_text(text)
        if not UPDATE:
            pytest.fail(f"golden file {path.name} was missing and has been written; rerun")
    assert text == path.read_text(), f"{path.name} differs; rerun with SYMDIFF_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("fn, sig, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_every_stage_verifies(fn, sig, wrt):
    kinds = parse_signature(fn, sig)
    verify(lower(fn, kinds).function)
