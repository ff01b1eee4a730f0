"""The Numba backend computes what the NumPy backend computes, for every primitive case.

The NumPy backend is checked against central differences and autograd in
`test_primitives.py`; here each case is compiled by Numba and compared with it.
"""

from __future__ import annotations

import re

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


def _writes_match(fn, args, argnums=(0,)):
    """The compiled value and gradients of a function with element writes against the
    NumPy function itself and the NumPy backend."""
    value, grads = sd.value_and_grad(fn, argnums=argnums)(*args)
    ref_value, ref_grads = sd.value_and_grad(fn, argnums=argnums, backend="python")(*args)
    assert value == pytest.approx(fn(*args), rel=1e-13)
    assert value == pytest.approx(ref_value, rel=1e-13)
    for g, ref in zip(grads, ref_grads, strict=True):
        assert_close(g, ref, rtol=1e-12, atol=1e-13)


def rows_written(x, W):
    M = np.zeros((x.shape[0], W.shape[1]))
    for i in range(x.shape[0]):
        M[i] = np.tanh(x[i] * W[i % W.shape[0]])
    M[1] = M[:, 0] * 2.0        # a fresh array: a loop
    M[2] = M[:, 1]              # a view of M itself: copied first, as NumPy does
    M[0] += x[:1]               # length 1: broadcast along the row
    return np.sum(M * M)


def row_of_another_length(x, W):
    M = np.zeros((x.shape[0], W.shape[1]))
    M[0] = W[0, 1:]
    return np.sum(M)


def test_row_updates_are_loops_with_numpy_semantics():
    """``A[i] = v`` / ``A[i] += v`` of a 1-d row are explicit loops (Numba's slice
    assignment is slower to run and, the first time, about 1.5 s slower to compile):
    a row of length 1 broadcasts, another length raises ValueError, and a v that may
    share A's memory is copied first (the loop would read elements it already wrote)."""
    r = np.random.default_rng(0)
    x, W = r.normal(size=4), r.normal(size=(3, 4))
    code = sd.show_ir(rows_written, "python", wrt=(0, 1), args=(x, W))
    assert re.search(r"M_\d+\[1, q_\d+\] = tmp_\d+\[q", code)
    assert re.search(r"tmp_\d+_copy = np.empty", code)
    assert not re.search(r"\n +M_\d+\[\w+\] \+?= ", code)  # no slice assignment left
    _writes_match(rows_written, (x, W), (0, 1))
    for backend in ("numba", "python"):
        with pytest.raises(ValueError, match="broadcast"):
            sd.jit(row_of_another_length, backend=backend)(x, W)


def row_from_a_branch(x, c):
    M = np.zeros((x.shape[0], x.shape[0])) + x
    M[1] = M[:, 0] if c > 0.0 else x * 2.0   # M's own column when c > 0: copied first
    return np.sum(M * M)


def matrix_recurrence(A, M0):
    M = M0
    for _ in range(4):
        M = np.tanh(A @ M)
    return np.sum(M * M)


@pytest.mark.parametrize("c", [1.0, -1.0])
def test_a_row_that_may_be_a_view_through_a_branch_is_copied(c):
    x = np.random.default_rng(1).normal(size=4)
    code = sd.show_ir(row_from_a_branch, "python", args=(x, c))
    assert re.search(r"_copy = np.empty", code)
    _writes_match(row_from_a_branch, (x, c))


def test_matrix_entries_of_a_tape_are_loops_when_shapes_are_proved():
    r = np.random.default_rng(2)
    A, M0 = 0.5 * r.normal(size=(3, 3)), r.normal(size=(3, 3))
    code = sd.show_ir(matrix_recurrence, "python", wrt=(0, 1), args=(A, M0))
    assert re.search(r"M_tape_\d+\[\w+, q, q_1\] = ", code)
    assert not re.search(r"M_tape_\d+\[\w+\] = M", code)
    _writes_match(matrix_recurrence, (A, M0), (0, 1))


def slices_written(x):
    out = np.zeros(x.shape[0])
    out[1:] = np.tanh(x[:-1])
    out[::2] += x[::2] * 2.0    # a step
    out[1:] = out[:-1] * 1.0    # a view of out itself (shifted): copied first
    out[1:-1:3] = x[:1]         # length 1: broadcast
    out[5:2:-1] += x[1:4]       # a negative step
    return np.sum(out * out * x)


def slice_of_another_length(x):
    out = np.zeros(x.shape[0])
    out[1:] = x[:2]
    return np.sum(out)


def test_slice_updates_of_vectors_are_loops_with_numpy_semantics():
    x = np.linspace(0.1, 1.0, 7)
    code = sd.show_ir(slices_written, "python", args=(x,))
    assert ".indices(" in code and "_copy = np.empty" in code
    assert not re.search(r"\n +out_?\d*\[[^\]]*:[^\]]*\] \+?= (?!0\.0)", code)
    _writes_match(slices_written, (x,))
    for backend in ("numba", "python"):
        with pytest.raises(ValueError, match="broadcast"):
            sd.jit(slice_of_another_length, backend=backend)(x)


def matrix_slices_written(x, W):
    M = W * 1.0
    M[:, 2] = np.tanh(x[:3])    # a column
    M[1, 1:] += x[1:4]          # part of a row
    M[:, 0] = M[0, :3] * 1.0    # a view of M itself: copied first
    M[::2, 3] = x[:1]           # length 1: broadcast down a strided column
    return np.sum(M * M * W)


def test_vectors_into_slices_of_matrices_are_loops():
    r = np.random.default_rng(3)
    x, W = r.normal(size=5), r.normal(size=(3, 4))
    code = sd.show_ir(matrix_slices_written, "python", wrt=(0, 1), args=(x, W))
    assert ".indices(M" in code and "_copy = np.empty" in code
    assert not re.search(r"\n +M_?\d*\[[^\]]*:[^\]]*\] \+?= (?!0\.0)", code)
    _writes_match(matrix_slices_written, (x, W), (0, 1))
