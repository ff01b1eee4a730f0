"""The Numba backend computes what the NumPy backend computes, for every primitive case.

The NumPy backend is checked against central differences and autograd in
`test_primitives.py`; here each case is compiled by Numba and compared with it.
"""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from tests.gradcheck import assert_close
from tests.test_primitives import CASES, _case_id


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_numba_matches_numpy_backend(case):
    fn, make, argnums = case
    args = make()
    value, grads = sd.value_and_grad(fn, argnums=argnums)(*args)
    ref_value, ref_grads = sd.value_and_grad(fn, argnums=argnums, backend="python")(*args)
    assert isinstance(value, float)
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-12)
    for g, r in zip(grads, ref_grads, strict=True):
        assert_close(g, r, rtol=1e-10, atol=1e-12)
        if np.ndim(r):
            assert isinstance(g, np.ndarray) and g.shape == np.shape(r)
        else:
            assert isinstance(g, float)


def test_primal_jit_matches_python():
    fn, make, _ = CASES[0]
    args = make()
    assert sd.jit(fn)(*args) == pytest.approx(fn(*args), rel=1e-13)
