"""Functions behind the regression tests (symdiff reads their source from this file)."""
# ruff: noqa
from __future__ import annotations

import numpy as np


def fused_names(Z, a):
    m_v = a * 2.0
    m = np.max(Z, axis=1, keepdims=True)
    return np.sum(m) * m_v


def fused_names_arrays(Z, a):
    m_v = Z * 3.0
    m_v_1 = Z + a
    m = np.max(Z, axis=1, keepdims=True)
    return np.sum(m * m_v * m_v_1)


def broadcast_index(X, i, j):
    return np.sum(X[i, j] ** 2)


def aug_on_argument(x):
    y = x
    y += 1.0
    return np.sum(x)


def aug_on_alias(x):
    y = x * 2.0
    z = y
    y += 1.0
    return np.sum(z)


def aug_on_view_of_argument(x):
    y = x[1:]
    y *= 2.0
    return np.sum(x)


def aug_fresh(x):
    y = x * 2.0
    y += 1.0
    return np.sum(y)


def dot(x, y):
    return np.dot(x, y)


def identity_times_one(x):
    return x * 1.0


def transpose_arg(A):
    return A.T


def int_negative_power(x, n):
    return np.sum(x) * n ** -1


def with_default(x, scale=2.0):
    return np.sum(x * x) * scale


def full_int_dtype(x):
    return np.sum(np.full(3, 2.5, dtype=int) * x)


def quoted_annotation(w: "f64[:]", n: "i64"):
    return np.sum(w) * n


def return_module(x):
    y = x * 2.0
    return np


def sum_dtype_positional(X):
    return np.sum(np.sum(X, 0, True))


def reshape_shape_keyword(x):
    return np.sum(np.reshape(x, shape=(2, 2)) ** 2)


def mean_of_broadcast_gather(A, i, j):
    v = A[i, j]
    return np.mean(v) + np.sum(v * v * 0.5)


def write_after_numpy_transpose(x):
    y = x * 2.0
    z = np.transpose(y)
    y[0] = 1.0
    return np.sum(z)


def aug_after_tuple_alias(x):
    y = x * 2.0
    a, b = y, y
    a += 1.0
    return np.sum(b)


def write_after_conditional_alias(x, c):
    y = x * 2.0
    z = y if c > 0.0 else y * 3.0
    y[0] = 1.0
    return np.sum(z)


def _identity(a):
    return a


def aug_after_helper_alias(x):
    y = x * 2.0
    z = _identity(y)
    y += 1.0
    return np.sum(z)


def write_after_branch_alias(x, t):
    if t > 0.0:
        y = x
    else:
        y = x * 2.0
    y[0] = 1.0
    return np.sum(y)


def shared_adjoint(x, y):
    return np.sum((x + y) ** 2)


def reshape_newshape(x):
    return np.sum(np.reshape(x, newshape=(2, 2)) ** 2)


def tuple_in_both_arms(x, t):
    if t > 0.0:
        sh = x.shape
    else:
        sh = x.shape
    return np.sum(x) * sh[0]
