"""if/elif/else, early returns and array element writes: exact gradients, clear refusals."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import symdiff as sd
from tests import control_cases as cc
from tests.gradcheck import assert_close, central_difference

rng = np.random.default_rng(3)

CASES = [
    (cc.piecewise, (0.7, 0.9), (0, 1)),
    (cc.piecewise, (0.7, 0.1), (0, 1)),
    (cc.piecewise, (0.7, -0.9), (0, 1)),
    (cc.early_return, (0.3, -1.0), (0, 1)),
    (cc.early_return, (0.9, 0.5), (0, 1)),
    (cc.early_return, (0.1, 0.2), (0, 1)),
    (cc.nested, (0.5, 0.25), (0, 1)),
    (cc.nested, (0.5, -0.25), (0, 1)),
    (cc.nested, (-0.5, 0.25), (0, 1)),
    (cc.array_branches, (rng.standard_normal(3), rng.standard_normal((4, 3))), (0, 1)),
    (cc.array_branches, (-np.abs(rng.standard_normal(3)), np.abs(rng.standard_normal((4, 3)))),
     (0, 1)),
    (cc.int_in_one_branch, (0.5, 3), (0,)),
    (cc.int_in_one_branch, (0.5, 1), (0,)),
    (cc.element_writes, (rng.standard_normal(5),), (0,)),
    (cc.slice_writes, (rng.standard_normal(5),), (0,)),
    (cc.matrix_writes, (0.7, rng.standard_normal((3, 3))), (0, 1)),
    (cc.aug_writes, (rng.standard_normal(3),), (0,)),
    (cc.write_then_read, (rng.standard_normal(4),), (0,)),
    (cc.write_in_branch, (rng.standard_normal(3), 0.5), (0, 1)),
    (cc.write_in_branch, (rng.standard_normal(3), -0.5), (0, 1)),
]


def _id(case) -> str:
    fn, args, _ = case
    return f"{fn.__name__}-{'-'.join(f'{a:.1f}' if np.ndim(a) == 0 else 'arr' for a in args)}"


@pytest.mark.parametrize("backend", ["python", "numba"])
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_gradient_matches_central_differences(case, backend):
    fn, args, argnums = case
    value, grads = sd.value_and_grad(fn, argnums=argnums, backend=backend)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12, abs=1e-12)
    for k, g in zip(argnums, grads, strict=True):
        assert_close(g, central_difference(fn, args, k), rtol=1e-6, atol=1e-7)


def test_writes_are_in_place_in_the_generated_code():
    text = sd.show_ir(cc.element_writes, "python", signature="x=f64[:]")
    assert "out[0] = " in text and ".copy()" not in text.split("def element_writes_grad")[1].split(
        "out[0] = ")[0]


REFUSALS = [
    (cc.write_argument, "argument array 'x'", (np.ones(3),)),
    (cc.write_through_view, "also change 'y'", (np.ones(3),)),
    (cc.maybe_unassigned, "only one branch", (np.ones(3), 1.0)),
    (cc.branches_different_ndim, "dimension", (np.ones(3), 1.0)),
    (cc.fancy_write, "integer-array", (np.ones(3), np.array([0, 1]))),
    (cc.falls_off_end, "'return'", (np.ones(3), 1.0)),
    (cc.helper_mutates_argument, "argument array 'a'", (np.ones(3),)),
]


@pytest.mark.parametrize("fn, fragment, args", REFUSALS, ids=[r[0].__name__ for r in REFUSALS])
def test_refusals_name_the_line(fn, fragment, args):
    marked = cc._scale_in_place if fn is cc.helper_mutates_argument else fn
    lines, first = inspect.getsourcelines(marked)
    line = next(first + k for k, t in enumerate(lines) if "# REFUSE" in t)
    with pytest.raises(sd.UnsupportedSyntaxError) as info:
        sd.jit(fn, backend="python")(*args)
    assert info.value.loc.line == line, str(info.value)
    assert fragment in str(info.value)
