"""Hoisting row-wise matrix products out of for loops (symdiff.transforms.hoist).

``A @ X[t]`` inside ``for t in range(X.shape[0])`` becomes a read of row t of
``X @ A.T`` computed before the loop. Checked here: which loops and products
qualify (the IR shows the product before the loop, or still inside it), and that
every hoisted form keeps its value and its gradient (central differences) and its
tangent (forward mode).
"""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from tests.gradcheck import assert_close, central_difference


def rnn(Wx, Wh, b, xs):
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum(h * h)


def row_times_matrix(A, xs):
    s = 0.0
    for t in range(xs.shape[0]):
        s += np.sum(np.sin(xs[t] @ A))
    return s


def transposed_matrix_times_row(A, xs):
    s = 0.0
    for t in range(xs.shape[0]):
        s += np.sum(np.sin(A.T @ xs[t]))
    return s


def row_times_transposed_matrix(B, xs):
    s = 0.0
    for t in range(xs.shape[0]):
        s += np.sum(np.cos(xs[t] @ B.T) * xs[t][0])
    return s


def nested(A, xs):
    s = 0.0
    for k in range(2):
        for t in range(xs.shape[0]):
            s += np.sum(np.tanh(A @ xs[t]) * (k + 1.0))
    return s


def skips_a_row(A, xs):
    s = 0.0
    for t in range(1, xs.shape[0]):
        s += np.sum(np.sin(A @ xs[t]))
    return s


def changing_matrix(A, xs):
    s = 0.0
    for t in range(xs.shape[0]):
        s += np.sum(np.sin(A @ xs[t]))
        A = A * 0.5
    return s


def next_row(A, xs):
    s = 0.0
    for t in range(xs.shape[0] - 1):
        s += np.sum(np.sin(A @ xs[t + 1]))
    return s


def in_a_branch(A, xs):
    s = 0.0
    for t in range(xs.shape[0]):
        if xs[t, 0] > 0.0:
            s += np.sum(np.sin(A @ xs[t]))
    return s


def _args(fn, seed=0):
    r = np.random.default_rng(seed)
    xs = r.normal(size=(6, 4))
    if fn is rnn:
        return (0.4 * r.normal(size=(5, 4)), 0.3 * r.normal(size=(5, 5)),
                0.1 * r.normal(size=5), xs)
    if fn in (row_times_matrix, transposed_matrix_times_row):
        return (r.normal(size=(4, 3)), xs)
    return (r.normal(size=(3, 4)), xs)


def _body_of_loop(ir_text: str) -> str:
    return ir_text.split("for(", 1)[1]


@pytest.mark.parametrize("fn", [rnn, row_times_matrix, transposed_matrix_times_row,
                                row_times_transposed_matrix, nested])
def test_products_of_a_visited_row_leave_the_loop(fn):
    args = _args(fn)
    ir = sd.show_ir(fn, "ir", args=args)
    if fn is nested:  # hoisted out of the inner loop, which runs once per outer iteration
        ir = _body_of_loop(ir)
    before, inside = ir.split("for(", 1)[0], _body_of_loop(ir)
    assert "matmul(xs," in before
    # only Wh @ h (whose vector is carried) stays a product inside the loop
    assert inside.count("matmul(") == (1 if fn is rnn else 0)


@pytest.mark.parametrize("fn", [skips_a_row, changing_matrix, next_row, in_a_branch])
def test_products_stay_when_the_loop_does_not_visit_every_row_with_one_matrix(fn):
    ir = sd.show_ir(fn, "ir", args=_args(fn))
    assert "matmul(" not in ir.split("for(", 1)[0]
    assert "matmul(" in _body_of_loop(ir)


@pytest.mark.parametrize("fn", [rnn, row_times_matrix, transposed_matrix_times_row,
                                row_times_transposed_matrix, nested, skips_a_row])
def test_hoisted_products_keep_value_and_gradient(fn):
    args = _args(fn)
    nparams = 3 if fn is rnn else 1
    argnums = tuple(range(nparams))
    vg = sd.value_and_grad(fn, argnums=argnums, backend="python")
    value, grads = vg(*args)
    assert_close(value, fn(*args), rtol=1e-12, atol=1e-12)
    for k in argnums:
        assert_close(grads[k], central_difference(fn, args, k), rtol=1e-6, atol=1e-7)
    # the gradient of the whole table wrt the matrix is one product after the loop
    code = sd.show_ir(fn, "python", wrt=argnums, args=args)
    assert "np.outer" not in code or fn in (rnn, skips_a_row)


def test_hoisted_rnn_gradient_compiled_matches_python_backend():
    args = _args(rnn, seed=3)
    g_numba = sd.grad(rnn, argnums=(0, 1, 2))(*args)
    g_python = sd.grad(rnn, argnums=(0, 1, 2), backend="python")(*args)
    for a, b in zip(g_numba, g_python, strict=True):
        assert_close(a, b, rtol=1e-12, atol=1e-13)


def test_hoisted_products_keep_their_tangent():
    args = _args(row_times_transposed_matrix, seed=1)
    B, xs = args
    dB = np.random.default_rng(2).normal(size=B.shape)
    _, tangent = sd.jvp(row_times_transposed_matrix, (B, xs), (dB, np.zeros_like(xs)),
                        backend="python")
    h = 1e-6
    expected = (row_times_transposed_matrix(B + h * dB, xs)
                - row_times_transposed_matrix(B - h * dB, xs)) / (2 * h)
    assert_close(tangent, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_an_empty_loop_still_runs(backend):
    A, xs = _args(row_times_matrix)
    value, g = sd.value_and_grad(row_times_matrix, backend=backend)(A, xs[:0])
    assert value == 0.0
    assert_close(g, np.zeros_like(A))


# ----------------------------------------------------------------------------------------
# The reverse loop's outer-product accumulations (symdiff.transforms.reverse_loops.
# _batch_outer_sums): W_bar += outer(g, h) per iteration becomes rows of g and h written
# per iteration and one product after the loop.


def rnn_with_weight_decay(Wh, h0, xs):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + xs[t])
    return np.sum(h * h) + 0.1 * np.sum(Wh * Wh)


def rnn_while(Wh, h0, n):
    h = h0
    k = 0
    while k < n:
        h = np.tanh(Wh @ h)
        k += 1
    return np.sum(h * h)


def _recurrent_args(seed=4):
    r = np.random.default_rng(seed)
    return 0.4 * r.normal(size=(5, 5)), r.normal(size=5), r.normal(size=(7, 5))


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_outer_sums_of_a_for_loop_become_one_product(backend):
    args = _recurrent_args()
    code = sd.show_ir(rnn_with_weight_decay, "python", wrt=(0, 1), args=args)
    assert "np.outer" not in code and "Wh_bar_rows" in code
    grads = sd.grad(rnn_with_weight_decay, argnums=(0, 1), backend=backend)(*args)
    for k in range(2):
        assert_close(grads[k], central_difference(rnn_with_weight_decay, args, k), rtol=1e-6)


def test_a_while_loop_keeps_its_outer_sums():
    Wh, h0, _ = _recurrent_args()
    code = sd.show_ir(rnn_while, "numpy", wrt=(0, 1), args=(Wh, h0, 4))
    assert "np.outer" in code and "Wh_bar_rows" not in code
    g = sd.grad(rnn_while, argnums=0, backend="python")(Wh, h0, 4)
    assert_close(g, central_difference(rnn_while, (Wh, h0, 4), 0), rtol=1e-6)


def test_hessian_vector_product_through_batched_outer_sums():
    Wh, h0, xs = _recurrent_args(seed=5)
    v = np.random.default_rng(6).normal(size=Wh.shape)
    hvp = sd.hvp(rnn_with_weight_decay, argnums=0, backend="python")(Wh, h0, xs, v)
    grad = sd.grad(rnn_with_weight_decay, argnums=0, backend="python")
    eps = 1e-6
    expected = (grad(Wh + eps * v, h0, xs) - grad(Wh - eps * v, h0, xs)) / (2 * eps)
    assert_close(hvp, expected, rtol=1e-5, atol=1e-7)


def rnn_gated(Wh, h0, xs):
    h = h0
    for t in range(xs.shape[0]):
        if xs[t, 0] > 0.0:
            h = np.tanh(Wh @ h + xs[t])
        else:
            h = h * 0.5
    return np.sum(h * h)


def matrix_used_twice(Wh, h0, xs):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + 0.5 * (Wh @ (h * h)) + xs[t])
    return np.sum(h * h)


@pytest.mark.parametrize("fn", [rnn_gated, matrix_used_twice])
def test_outer_sums_not_batched_stay_right(fn):
    """A product in a branch, or two products with one matrix, keep the per-iteration
    accumulation (or batch what they can); the gradient is right either way."""
    args = _recurrent_args(seed=7)
    for backend in ("python", "numba"):
        grads = sd.grad(fn, argnums=(0, 1), backend=backend)(*args)
        for k in range(2):
            assert_close(grads[k], central_difference(fn, args, k), rtol=1e-6, atol=1e-8)
