"""Every primitive's VJP rule against central differences and HIPS autograd.

Each case is a small function using one primitive (several shapes, with
broadcasting). The NumPy backend runs all cases (fast to build); the Numba
backend compiles one function per case group in `test_numba_backend.py`.
"""

from __future__ import annotations

import math
import types

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import symdiff as sd
from tests.gradcheck import assert_close, central_difference

rng = np.random.default_rng(0)


def R(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def P(*shape: int) -> np.ndarray:
    """Positive values away from zero."""
    return rng.uniform(0.5, 2.0, shape)


# --------------------------------------------------------------- cases


def add(x, y):
    return np.sum((x + y) * (x + 2.0))


def sub(x, y):
    return np.sum((x - y) * np.sin(y))


def mul(x, y):
    return np.sum(x * y * x)


def div(x, y):
    return np.sum(x / y)


def power(x, y):
    return np.sum(x**y)


def power_const(x):
    return np.sum(x**3 + x**2 + x**0.5 + 2.0**x)


def maximum(x, y):
    return np.sum(np.maximum(x, y) * x)


def minimum(x, y):
    return np.sum(np.minimum(x, y) * y)


def neg(x):
    return np.sum(-x * x)


def unary_all(x):
    return np.sum(np.exp(x) + np.log(x) + np.log1p(x) + np.expm1(x) + np.sqrt(x) + np.sin(x)
                  + np.cos(x) + np.tan(x * 0.3) + np.tanh(x) + np.arctan(x))


def abs_sign(x):
    return np.sum(np.abs(x) * 2.0 + np.sign(x) * x)


def where(x, y):
    return np.sum(np.where(x > 0.0, x * y, -y))


def clip(x):
    return np.sum(np.clip(x, -0.5, 0.7) ** 2)


def red_sum(x):
    return np.sum(np.sum(x, axis=0) ** 2) + np.sum(x.sum(axis=1) ** 3) + x.sum()


def red_sum_keep(x):
    s = np.sum(x, axis=1, keepdims=True)
    return np.sum((x - s) ** 2)


def red_mean(x):
    return np.sum(np.mean(x, axis=0) ** 2) + x.mean() + np.sum(x.mean(axis=1, keepdims=True) * x)


def red_max(x):
    return np.sum(np.max(x, axis=1) ** 2) + np.min(x) + np.sum(x.max(axis=0, keepdims=True) * x)


def red_min(x):
    return np.sum(np.min(x, axis=0) * 3.0) + x.max()


def red_prod(x):
    return np.sum(np.prod(x, axis=1)) + np.prod(x)


def red_3d(t):
    return np.sum(np.sum(t, axis=(0, 2)) ** 2) + np.sum(np.max(t, axis=1) ** 2) \
        + np.sum(np.mean(t, axis=-1, keepdims=True) * t)


def matmul_mm(A, B):
    return np.sum(np.tanh(A @ B))


def matmul_mv(A, x):
    return np.sum(np.tanh(A @ x))


def matmul_vm(x, A):
    return np.sum(np.tanh(x @ A))


def matmul_vv(x, y):
    return np.dot(x, y) ** 2 + x.dot(y)


def dot_mm(A, B):
    return np.sum(np.dot(A, B) ** 2)


def outer(x, y):
    return np.sum(np.sin(np.outer(x, y)))


def transpose(A):
    return np.sum(A.T * np.arange(A.shape[0])) + np.sum(np.transpose(A) @ A)


def transpose_3d(t):
    return np.sum(np.transpose(t, (1, 2, 0)) * np.arange(t.shape[1]).reshape((t.shape[1], 1, 1)))


def reshape(x):
    n = x.shape[0]
    return np.sum(np.sin(x.reshape((2, n // 2))) * np.arange(n).reshape(2, n // 2)) \
        + np.sum(x.reshape(n // 2, 2)[0] ** 2) + np.sum(x.ravel() ** 3)


def creation(x):
    n = len(x)
    z = np.zeros(n) + np.ones(n) * 2.0 + np.full(n, 3.0) + np.zeros_like(x) + np.ones_like(x)
    return np.sum(z * x * np.full((n,), 0.5) ** 2)


def full_of_param(x, s):
    return np.sum(np.full(x.shape, s) * x)


def index_int(x):
    return x[1] * x[-1] + x[0] ** 2


def index_2d(A):
    return A[1, 2] * A[0, 0] + np.sum(A[:, 1] ** 2) + np.sum(A[-1] * 3.0)


def index_slices(x):
    return np.sum(x[1:4] ** 2) + np.sum(x[::2] * x[1::2]) + np.sum(x[::-1] * x) + np.sum(x[:-2])


def index_newaxis(x):
    return np.sum((x[:, None] - x[None, :]) ** 2) + np.sum(x[np.newaxis] * 2.0)


def index_fancy(Z, y):
    n = Z.shape[0]
    return np.sum(np.log(Z[np.arange(n), y]))


def index_rows(X, idx):
    return np.sum(np.sin(X[idx]))


def index_3d(t):
    return np.sum(t[1, :, 2] ** 2) + np.sum(t[:, 0] * t[:, 1])


def builtins_scalar(x, y):
    return abs(x - y) + min(x, y) * max(x, y * 2.0) + float(3)


def math_functions(x):
    return math.exp(x) + math.log(x) + math.sqrt(x) + math.sin(x) * math.cos(x) + math.tanh(x) \
        + math.atan(x) + math.log1p(x) + math.expm1(x) + math.tan(x) + math.pi * x + abs(x)


def cond_expr(x, y):
    return x * y if x > y else x - y**2


def cond_expr_array(x, t):
    return np.sum(x * x) if t > 0.0 else np.sum(np.exp(x))


def _pair(a, b):
    return a * b, a + b


def helper_tuple(x, y):
    p, s = _pair(x, y)
    q, r = s, p
    return np.sum(q * r)


def _scale(a, k=2.0):
    return a * k


def helper_defaults(x):
    return np.sum(_scale(x) + _scale(x, k=3.0) + _scale(x, 0.5))


def broadcast_matrix(A, b, c):
    return np.sum(np.tanh(A * b + c) * A)


def int_args(x, n, k):
    return np.sum(x[:n] ** k) * n


def aug_assign(x, y):
    s = x * 2.0
    s += y
    s *= x
    s -= 1.0
    s /= 2.0
    return np.sum(s)


# (function, argument factory, argnums)
CASES = [
    (add, lambda: (R(3, 4), R(4)), (0, 1)),
    (add, lambda: (R(), R(5)), (0, 1)),
    (sub, lambda: (R(3, 1), R(1, 4)), (0, 1)),
    (mul, lambda: (R(2, 3), R(2, 1)), (0, 1)),
    (mul, lambda: (R(4), R()), (0, 1)),
    (div, lambda: (R(3, 4), P(4)), (0, 1)),
    (div, lambda: (R(), P(3)), (0, 1)),
    (power, lambda: (P(2, 3), R(3)), (0, 1)),
    (power_const, lambda: (P(4),), (0,)),
    (maximum, lambda: (R(3, 4), R(4)), (0, 1)),
    (minimum, lambda: (R(5), R()), (0, 1)),
    (neg, lambda: (R(3),), (0,)),
    (unary_all, lambda: (P(2, 3),), (0,)),
    (abs_sign, lambda: (R(6),), (0,)),
    (where, lambda: (R(3, 4), R(4)), (0, 1)),
    (where, lambda: (R(3, 4), R(3, 4)), (0, 1)),
    (clip, lambda: (R(10),), (0,)),
    (red_sum, lambda: (R(3, 4),), (0,)),
    (red_sum_keep, lambda: (R(3, 4),), (0,)),
    (red_mean, lambda: (R(3, 4),), (0,)),
    (red_max, lambda: (R(3, 4),), (0,)),
    (red_min, lambda: (R(4, 3),), (0,)),
    (red_prod, lambda: (P(3, 4),), (0,)),
    (red_3d, lambda: (R(2, 3, 4),), (0,)),
    (matmul_mm, lambda: (R(3, 4), R(4, 2)), (0, 1)),
    (matmul_mv, lambda: (R(3, 4), R(4)), (0, 1)),
    (matmul_vm, lambda: (R(3), R(3, 5)), (0, 1)),
    (matmul_vv, lambda: (R(4), R(4)), (0, 1)),
    (dot_mm, lambda: (R(2, 3), R(3, 3)), (0, 1)),
    (outer, lambda: (R(3), R(4)), (0, 1)),
    (transpose, lambda: (R(3, 4),), (0,)),
    (transpose_3d, lambda: (R(2, 3, 4),), (0,)),
    (reshape, lambda: (R(6),), (0,)),
    (creation, lambda: (R(5),), (0,)),
    (full_of_param, lambda: (R(2, 3), R()), (0, 1)),
    (index_int, lambda: (R(5),), (0,)),
    (index_2d, lambda: (R(3, 4),), (0,)),
    (index_slices, lambda: (R(8),), (0,)),
    (index_newaxis, lambda: (R(4),), (0,)),
    (index_fancy, lambda: (P(4, 3), np.array([0, 2, 2, 1])), (0,)),
    (index_rows, lambda: (R(4, 3), np.array([0, 2, 2, 3, 0])), (0,)),
    (index_3d, lambda: (R(2, 3, 4),), (0,)),
    (builtins_scalar, lambda: (0.3, -0.7), (0, 1)),
    (builtins_scalar, lambda: (-0.3, 0.7), (0, 1)),
    (math_functions, lambda: (0.7,), (0,)),
    (cond_expr, lambda: (0.5, 0.2), (0, 1)),
    (cond_expr, lambda: (0.1, 0.2), (0, 1)),
    (cond_expr_array, lambda: (R(4), 1.0), (0,)),
    (cond_expr_array, lambda: (R(4), -1.0), (0,)),
    (helper_tuple, lambda: (R(3), R(3)), (0, 1)),
    (helper_defaults, lambda: (R(3),), (0,)),
    (broadcast_matrix, lambda: (R(3, 4), R(4), R(3, 1)), (0, 1, 2)),
    (int_args, lambda: (R(6), 4, 3), (0,)),
    (aug_assign, lambda: (R(3), R(3)), (0, 1)),
]

NO_AUTOGRAD = {math_functions, builtins_scalar, cond_expr, cond_expr_array, helper_defaults,
               int_args}


def _case_id(case) -> str:
    fn, make, _ = case
    shapes = "-".join("x".join(map(str, np.shape(a))) or "s" for a in make())
    return f"{fn.__name__}[{shapes}]"


def _with_autograd_numpy(fn):
    return types.FunctionType(fn.__code__, {**fn.__globals__, "np": anp}, fn.__name__,
                              fn.__defaults__, fn.__closure__)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_vjp_against_central_differences(case):
    fn, make, argnums = case
    args = make()
    grads = sd.grad(fn, argnums=argnums, backend="python")(*args)
    assert isinstance(grads, tuple) and len(grads) == len(argnums)
    for k, g in zip(argnums, grads, strict=True):
        expected = central_difference(fn, args, k)
        assert np.shape(g) == np.shape(args[k])
        assert_close(g, expected, rtol=1e-5, atol=1e-6)


# autograd: its np.where VJP does not undo broadcasting; its ArrayBox has no .dot.
AUTOGRAD_BROKEN = {"where[3x4-4]", "matmul_vv[4-4]"}  # and no ArrayBox.dot
AUTOGRAD_CASES = [c for c in CASES
                  if c[0] not in NO_AUTOGRAD and _case_id(c) not in AUTOGRAD_BROKEN]


@pytest.mark.parametrize("case", AUTOGRAD_CASES, ids=[_case_id(c) for c in AUTOGRAD_CASES])
def test_vjp_against_autograd(case):
    fn, make, argnums = case
    args = make()
    grads = sd.grad(fn, argnums=argnums, backend="python")(*args)
    reference = autograd.grad(_with_autograd_numpy(fn), argnums)(*args)
    for g, r in zip(grads, reference, strict=True):
        assert_close(g, r, rtol=1e-10, atol=1e-12)


def test_value_and_grad_matches_function_and_grad():
    args = (R(3, 4), R(4))
    value, (ga, gb) = sd.value_and_grad(matmul_mv, argnums=(0, 1), backend="python")(*args)
    assert value == pytest.approx(matmul_mv(*args), rel=1e-14)
    ga2, gb2 = sd.grad(matmul_mv, argnums=(0, 1), backend="python")(*args)
    assert_close(ga, ga2, rtol=0, atol=0)
    assert_close(gb, gb2, rtol=0, atol=0)


def test_subgradient_conventions_at_ties():
    """abs'(0) = 0; maximum/minimum and max-reductions split the adjoint at ties."""
    def relu_sum(x):
        return np.sum(np.maximum(x, 0.0))

    def row_max(x):
        return np.sum(np.max(x, axis=1))

    g = sd.grad(relu_sum, backend="python")(np.array([-1.0, 0.0, 2.0]))
    assert_close(g, [0.0, 0.5, 1.0], rtol=0, atol=0)
    g = sd.grad(abs_sign, backend="python")(np.array([0.0, 1.0]))
    assert_close(g, [0.0, 3.0], rtol=0, atol=0)
    g = sd.grad(row_max, backend="python")(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]))
    assert_close(g, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], rtol=0, atol=0)


def test_integer_arguments_are_not_differentiable():
    with pytest.raises(sd.SymdiffError, match="integer"):
        sd.grad(int_args, argnums=1, backend="python")(R(6), 4, 3)


def test_gradient_of_non_scalar_output_is_refused():
    def vec(x):
        return x * 2.0

    with pytest.raises(sd.SymdiffError, match="float scalar"):
        sd.grad(vec, backend="python")(R(3))
